"""Turn the user's INPUT arguments into a deterministic list of input files.

Order is the order of the arguments, then sorted relative paths inside each directory, so the
same inputs always produce the same document order (dedup keeps the first occurrence, so order
is part of the output's meaning). Symbolic links are not followed: a link could loop or point
outside the input root, and a cleaner must never read or count what the user did not give it.
"""

from __future__ import annotations

import glob as globlib
import os
from dataclasses import dataclass
from pathlib import Path


class InputError(Exception):
    """An input argument cannot be used; the message is one line naming it and the cause."""


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path  # the file to open
    root: Path  # the input root it was found under
    relative: str  # posix path relative to the root: the name it has in provenance and in text/
    source_name: str  # the corpus name: the root folder's name


def discover(inputs: list[str], pattern: str = "*.txt") -> list[InputFile]:
    """Expand files, directories (recursively, matching `pattern`) and shell globs.

    `pattern` may list several globs separated by commas (`*.txt,*.jsonl.gz`).
    """
    found: list[InputFile] = []
    for argument in inputs:
        if any(ch in argument for ch in "*?["):
            matches = sorted(globlib.glob(argument, recursive=True))
            if not matches:
                raise InputError(f"{argument}: no input matches this pattern")
            base = Path(_glob_base(argument))
            found += [_file(Path(m), base) for m in matches if Path(m).is_file() and not Path(m).is_symlink()]
            continue
        path = Path(argument)
        if path.is_symlink() and not path.exists():
            raise InputError(f"{argument}: broken symbolic link")
        if path.is_dir():
            found += _walk(path, pattern)
        elif path.is_file():
            found.append(_file(path, path.parent))
        else:
            raise InputError(f"{argument}: no such file or directory")
    _refuse_name_clashes(found)
    return found


def _refuse_name_clashes(files: list[InputFile]) -> None:
    """Two inputs that would have the same name in the output (root folder name + relative path)
    cannot be told apart in provenance, ids or text/; refuse before doing any work."""
    seen: dict[tuple[str, str], InputFile] = {}
    for item in files:
        key = (item.source_name, item.relative)
        other = seen.setdefault(key, item)
        if other is not item and other.path.resolve() != item.path.resolve():
            raise InputError(f"{item.path}: has the same output name {item.source_name}/{item.relative} as "
                             f"{other.path}; rename one root folder or clean them separately")


def _walk(root: Path, pattern: str) -> list[InputFile]:
    patterns = [p.strip() for p in pattern.split(",") if p.strip()]
    files: list[InputFile] = []
    for directory, subdirs, names in os.walk(root, followlinks=False):
        subdirs.sort()
        for name in names:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file():
                continue
            if any(Path(relative).match(p) or Path(name).match(p) for p in patterns):
                files.append(InputFile(path, root, relative, _name(root)))
    files.sort(key=lambda f: f.relative)
    return files


def _file(path: Path, root: Path) -> InputFile:
    return InputFile(path, root, path.relative_to(root).as_posix(), _name(root))


def _name(root: Path) -> str:
    return root.resolve().name or str(root)


def _glob_base(pattern: str) -> str:
    parts: list[str] = []
    for part in Path(pattern).parts:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return str(Path(*parts)) if parts else "."
