"""Turn the user's INPUT arguments into a deterministic list of input files.

Order is the order of the arguments, then sorted relative paths inside each directory, so the
same inputs always produce the same document order (dedup keeps the first occurrence, so order
is part of the output's meaning).

Symbolic links found inside a directory or by a glob are not followed: a link could loop or
point outside the input root, and a cleaner must never read or count what the user did not give
it. Shell globs are therefore expanded here, not with `glob.glob`, whose ``**`` descends into
linked directories (and round a link to ``..`` until the path is too long). A link given
directly as an INPUT argument is the user's explicit choice and is followed. Only regular files
are read: a FIFO or device inside a tree is passed over (reading one could block forever), and
one given as an argument is refused.

An fsspec URL (``s3://bucket/dump/``, ``memory://dump/*.jsonl``) is listed through its
filesystem with the same glob semantics, order and relative names as a local copy of the same
tree, so provenance does not depend on where the corpus is stored; its files are `RemotePath`s.
A ``file://`` URL is the local path it names.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from cleaner.readers.formats import DEFAULT_GLOB, readable_names
from cleaner.remote import RemotePath, filesystem, glob_base, is_url, join, local_path, remote_stat


class InputError(Exception):
    """An input argument cannot be used; the message is one line naming it and the cause."""


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path | RemotePath  # the file to open
    root: Path | RemotePath  # the input root it was found under
    relative: str  # posix path relative to the root: the name it has in provenance and in text/
    source_name: str  # the corpus name: the root folder's name
    error: str | None = None  # set when the entry could not even be listed (an unreadable directory)


def discover(inputs: list[str], pattern: str = DEFAULT_GLOB) -> list[InputFile]:
    """Expand files, directories (recursively, matching `pattern`) and shell globs.

    `pattern` may list several globs separated by commas (`*.txt,*.jsonl.gz`); the default is
    every name a reader reads. Finding nothing at all is an error that says what was there, so a
    run over the wrong folder or with the wrong `--glob` does not pass as an empty corpus.
    """
    found: list[InputFile] = []
    for argument in inputs:
        try:
            argument = local_path(argument)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if is_url(argument):
            found += _discover_url(argument, pattern)
            continue
        if any(ch in argument for ch in "*?["):
            base = Path(_glob_base(argument))
            matches = _expand_glob(base, Path(argument).parts[len(base.parts):])
            if not matches:
                raise InputError(f"{argument}: no input matches this pattern")
            found += matches
            continue
        path = Path(argument)
        if path.is_symlink() and not path.exists():
            raise InputError(f"{argument}: broken symbolic link")
        if path.is_dir():
            found += _walk(path, pattern)
        elif path.is_file():
            found.append(_file(path, path.parent))
        elif path.exists():
            raise InputError(f"{argument}: not a regular file or directory")
        else:
            raise InputError(f"{argument}: no such file or directory")
    if not found:
        raise InputError(_nothing_found(inputs, pattern))
    _refuse_name_clashes(found)
    return found


def _nothing_found(inputs: list[str], pattern: str) -> str:
    """One line: what the input directories hold instead, and what would have been read."""
    counts: Counter[str] = Counter()
    for argument in inputs:
        if not is_url(argument) and os.path.isdir(argument):
            for _, _, names in os.walk(argument, followlinks=False):
                counts.update(_printable(_extension(name)) for name in names)
    total = sum(counts.values())
    held = ", ".join(f"{n} {extension}" for extension, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
    where = ", ".join(_printable(argument) for argument in inputs)
    what = f"found {total} file{'s' if total != 1 else ''}: {held}" if total else "found no files"
    wanted = f"readable: {readable_names()}" if pattern == DEFAULT_GLOB else f"--glob {pattern!r} matches none"
    return f"no input files found under {where} ({what}); {wanted}"


def _extension(name: str) -> str:
    base, dot, extension = name.rpartition(".")
    if not base:
        return "without extension"
    compressed = f"{base.rpartition('.')[2]}." if extension.lower() in ("gz", "zst") and "." in base else ""
    return f".{compressed}{extension}"


def _discover_url(argument: str, pattern: str) -> list[InputFile]:
    """Like the local cases of `discover`, for one URL: a glob, a directory (prefix) or a file."""
    if any(ch in argument.partition("://")[2] for ch in "*?["):
        base = glob_base(argument)
        parts = tuple(part for part in argument[len(base):].split("/") if part)
        matches = [f for f in _list_url(argument, base) if _glob_match(parts, tuple(f.relative.split("/")))]
        if not matches:
            raise InputError(f"{argument}: no input matches this pattern")
        return matches
    info = _url_info(argument)
    if info.get("type") == "directory":
        patterns = [p.strip() for p in pattern.split(",") if p.strip()]
        return [f for f in _list_url(argument, argument)
                if any(Path(f.relative).match(p) or Path(f.path.name).match(p) for p in patterns)]
    if info.get("type") != "file":
        raise InputError(f"{argument}: not a regular file or directory")
    root, file = RemotePath(argument.rstrip("/").rsplit("/", 1)[0]), RemotePath(argument, remote_stat(info))
    return [InputFile(file, root, _printable(file.name), _name(root))]


def _url_info(argument: str) -> dict[str, Any]:
    try:
        fs, path = filesystem(argument)
        return fs.info(path)  # type: ignore[no-any-return]
    except FileNotFoundError:
        raise InputError(f"{argument}: no such file or directory") from None
    except Exception as exc:  # noqa: BLE001 - backends raise their own types (missing package, denied, ...)
        raise InputError(f"{argument}: cannot open: {_one_line(exc)}") from None


def _list_url(argument: str, base: str) -> list[InputFile]:
    """Every file under the URL `base`, sorted by relative name (byte order, as local discovery)."""
    root = RemotePath(base.rstrip("/"))
    try:
        fs, path = filesystem(base)
        listed = fs.find(path, detail=True)
    except FileNotFoundError:
        raise InputError(f"{argument}: no such file or directory") from None
    except Exception as exc:  # noqa: BLE001 - as in _url_info
        raise InputError(f"{argument}: cannot list: {_one_line(exc)}") from None
    files = []
    for name, info in listed.items():
        relative = name[len(path):].lstrip("/")
        if info.get("type") == "file" and relative:
            files.append(InputFile(RemotePath(join(root.url, relative), remote_stat(info)), root, _printable(relative),
                                   _name(root)))
    return sorted(files, key=lambda f: f.relative)


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _expand_glob(base: Path, parts: tuple[str, ...]) -> list[InputFile]:
    """Regular files under `base` matching the glob components `parts`, without following links.

    Semantics follow the shell and `glob.glob(recursive=True)`: ``*``, ``?`` and ``[...]``
    match within one path component, ``**`` matches any number of directories, and names
    starting with a dot match only a component that starts with a dot.
    """
    matches: list[InputFile] = []
    for directory, subdirs, names in os.walk(base, onerror=lambda e: matches.append(_unlisted(e, base)),
                                             followlinks=False):
        subdirs.sort()
        relative = Path(directory).relative_to(base).parts
        for name in names:
            path = Path(directory, name)
            if _glob_match(parts, (*relative, name)) and not path.is_symlink() and path.is_file():
                matches.append(_file(path, base))
    return sorted(matches, key=lambda f: str(f.path))


def _glob_match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_match(rest, parts[i:]) for i in range(len(parts) + 1)
                   if not any(part.startswith(".") for part in parts[:i]))
    if not parts:
        return False
    if parts[0].startswith(".") and not head.startswith("."):
        return False
    return fnmatchcase(parts[0], head) and _glob_match(rest, parts[1:])


def _refuse_name_clashes(files: list[InputFile]) -> None:
    """Two inputs that would have the same name in the output (root folder name + relative path)
    cannot be told apart in provenance, ids or text/; refuse before doing any work."""
    seen: dict[tuple[str, str], InputFile] = {}
    for item in files:
        key = (item.source_name, item.relative)
        other = seen.setdefault(key, item)
        if other is not item and other.path.resolve() != item.path.resolve():
            raise InputError(f"{_printable(str(item.path))}: has the same output name {item.source_name}/"
                             f"{item.relative} as {_printable(str(other.path))}; rename one root folder or "
                             "clean them separately")


def _walk(root: Path, pattern: str) -> list[InputFile]:
    """Regular files under `root` matching `pattern`; symbolic links are not followed. Plain
    string work and one lstat per file: a corpus folder holds hundreds of thousands of them."""
    patterns = [p.strip() for p in pattern.split(",") if p.strip()]
    name_patterns = [p for p in patterns if "/" not in p]  # match the file name alone
    path_patterns = [p for p in patterns if "/" in p]  # match the end of the relative path
    source_name = _name(root)
    files: list[InputFile] = []
    for directory, subdirs, names in os.walk(root, onerror=lambda e: files.append(_unlisted(e, root)),
                                             followlinks=False):
        subdirs.sort()
        folder = Path(directory).relative_to(root).as_posix()
        for name in names:
            relative = name if folder == "." else f"{folder}/{name}"
            if not (any(fnmatchcase(name, p) for p in name_patterns)
                    or any(PurePosixPath(relative).match(p) for p in path_patterns)):
                continue
            path = os.path.join(directory, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
            except OSError:
                continue  # gone since the directory was listed
            files.append(InputFile(Path(path), root, _printable(relative), source_name))
    files.sort(key=lambda f: f.relative)
    return files


def _unlisted(error: OSError, root: Path) -> InputFile:
    """A directory that cannot be listed becomes an input that fails when read, so it is
    reported (and stops the run with --on-error fail) instead of its files vanishing silently."""
    path = Path(error.filename)
    relative = _printable(path.relative_to(root).as_posix()) if path != root else "."
    return InputFile(path, root, relative, _name(root),
                     error=f"{relative}: cannot list directory: {error.strerror or error}")


def _file(path: Path, root: Path) -> InputFile:
    return InputFile(path, root, _printable(path.relative_to(root).as_posix()), _name(root))


def _name(root: Path | RemotePath) -> str:
    return _printable(root.resolve().name or str(root))


def _printable(name: str) -> str:
    """A file name as it can appear in JSON and in a one-line message.

    POSIX names are bytes: one that is not UTF-8 comes from the OS with lone surrogates
    (``bad\\udcffname.txt``), which cannot be written as UTF-8, and one may even hold a line
    break. Such bytes and control characters are shown as ``\\xNN`` escapes; the file itself is
    still opened by its real path. Ordinary names are returned unchanged.
    """
    if name.isprintable():
        return name
    text = os.fsencode(name).decode("utf-8", errors="backslashreplace")
    return "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" if ord(ch) < 0x100
                   else f"\\u{ord(ch):04x}" for ch in text)


def _glob_base(pattern: str) -> str:
    parts: list[str] = []
    for part in Path(pattern).parts:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return str(Path(*parts)) if parts else "."
