"""Inputs and outputs named by fsspec URLs (``s3://bucket/dump/``, ``gs://...``, ``memory://...``).

Local paths never come here: they keep the local code path with all its guarantees. A
``file://`` URL is a local path spelled as a URL, so `local_path` turns it into one (symbolic
links, FIFOs, the output lock and the atomic swap then behave exactly as for the plain path).

Inputs: a `RemotePath` is the URL of one file. It has the few `pathlib.Path` methods the
pipeline uses on input files (``name``, ``stat``, ``open``, ``absolute``, ``resolve``), so a
discovered remote file goes through make_tasks, digests, byte-range splitting and the readers
like a local one. Only the URL string is pickled: each worker process re-creates the
filesystem from it, so credentials must come from where the backend finds them itself
(environment variables, its config files, instance roles), never from the driver.

Outputs: `published` gives the run a local stand-in directory and, when the run succeeds,
publishes it to the URL. Object stores have no directory rename, so publishing cannot be
atomic there; what does hold:

1. The whole new output is uploaded to a fresh sibling prefix ``.NAME.staging-ID`` first,
   ``manifest.json`` last. A run or upload that fails never touches OUT.
2. Only then is OUT replaced: OUT is copied to ``.NAME.retired-ID``, OUT's ``manifest.json``
   is deleted first (so OUT is marked unfinished), then its other objects, then the staged
   objects are copied in, ``manifest.json`` last, and the staging and retired prefixes are
   removed.
3. So a reader that requires ``manifest.json`` never reads a half-written OUT. A failure in
   step 2 leaves OUT without ``manifest.json``, the previous output complete under the
   retired prefix and the new one under the staging prefix; the error names both. The next
   run then refuses OUT (not written by cleaner) until the user restores one or uses --force.
4. Two runs on the same URL from one machine are refused by a lock; from different machines
   they are not (object stores offer no lock), and the later publish wins.

On a cluster whose workers do not share the driver's disk (OUT and `--work-dir` both URLs: see
`direct_staging`), the workers write the output shards and texts straight to the staging prefix
of step 1 while the run goes on, the driver uploads only its own small files (stats.json, then
manifest.json) to it, and step 2 follows as above: no record passes through the driver, and a
run that fails removes the staging prefix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

import fsspec
from fsspec.core import url_to_fs

from cleaner.files import GENERATOR, OutputError, lock_file, unlock_file

MANIFEST = "manifest.json"


def is_url(name: str) -> bool:
    return "://" in name


def local_path(name: str) -> str:
    """A ``file://`` URL as the local path it names; anything else unchanged.

    Raises ValueError for a ``file://`` URL of another host, which this machine cannot open.
    """
    if name.startswith("file://"):
        parts = urlsplit(name)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"{name}: file:// URL names another host ({parts.netloc})")
        return unquote(parts.path) or "/"
    return name


def filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem of a URL and the path inside it, without a trailing slash."""
    fs, path = url_to_fs(url)
    return fs, path.rstrip("/") or path


def join(url: str, relative: str) -> str:
    return f"{url.rstrip('/')}/{relative}" if relative else url


@dataclass(frozen=True)
class RemoteStat:
    st_size: int
    st_mtime_ns: int  # 0 where the store reports no modification time


@dataclass(frozen=True, slots=True)
class RemotePath:
    """One input file behind an fsspec URL, with the Path methods the pipeline uses on inputs."""

    url: str
    # what the listing that found the file said: saves a request per file for each stat()
    listed: RemoteStat | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def open(self, mode: str = "rb") -> BinaryIO:
        fs, path = filesystem(self.url)
        return fs.open(path, mode)  # type: ignore[no-any-return]

    def stat(self) -> RemoteStat:
        if self.listed is not None:
            return self.listed
        fs, path = filesystem(self.url)
        return remote_stat(fs.info(path))

    def absolute(self) -> RemotePath:
        return self

    def resolve(self) -> RemotePath:
        return self

    def __str__(self) -> str:
        return self.url


def remote_stat(info: dict[str, Any]) -> RemoteStat:
    """Size and modification time from an fsspec info dict."""
    return RemoteStat(int(info.get("size") or 0), _modified_ns(info))


def _modified_ns(info: dict[str, Any]) -> int:
    """The modification time in an fsspec info dict; backends name and type it differently
    (s3fs ``LastModified`` datetime, gcsfs ``updated`` string, memory ``created`` float)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, (int, float)):
            return int(value * 1_000_000_000)
        if isinstance(value, dt.datetime):
            return int(value.timestamp() * 1_000_000_000)
        if isinstance(value, str):
            try:
                return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1_000_000_000)
            except ValueError:
                continue
    return 0


def direct_staging(out: str, work_dir: str | None) -> str | None:
    """The staging prefix workers write OUT's records to, when OUT and the work location are
    both in stores (a cluster: workers cannot reach the driver's disk); None otherwise, and the
    driver's stand-in directory is uploaded whole, as on one machine."""
    out, work = local_path(out), local_path(work_dir) if work_dir is not None else None
    if not is_url(out) or work is None or not is_url(work):
        return None
    fs, path = filesystem(out)
    parent, _, name = path.rpartition("/")
    return fs.unstrip_protocol(f"{parent}/.{name}.staging-{uuid.uuid4().hex[:12]}")


@contextmanager
def published(out: str | Path, inputs: list[str], *, force: bool = False, staging: str | None = None) -> Iterator[Path]:
    """The directory a run writes OUT to; for a URL OUT, a local stand-in published on success.

    A local OUT (or ``file://`` URL) is yielded as its Path and nothing else happens: the run's
    own staging gives it an atomic swap. A URL OUT is checked (not inside an input, not a file,
    not someone else's directory unless `force`), the run writes to a stand-in directory under
    the system temporary directory (one per URL, so --resume finds its work directory again),
    and the stand-in is uploaded when the block exits without an exception, then removed.
    With `staging` (from `direct_staging`), the run's workers have written records there already;
    the stand-in's files join them, and a block that fails removes that prefix.
    """
    try:
        out = local_path(os.fspath(out))
    except ValueError as exc:
        raise OutputError(str(exc)) from None
    if not is_url(out):
        yield Path(out)
        return
    fs, path = filesystem(out)
    _check_remote(out, fs, path, inputs, force)
    home = Path(tempfile.gettempdir()) / f"cleaner-{os.getuid()}" / hashlib.sha256(out.encode()).hexdigest()[:16]
    home.mkdir(parents=True, exist_ok=True)
    lock = lock_file(home / "publish", f"{out}: another cleaner run on this machine is writing this output")
    try:
        stand_in = home / "out"
        shutil.rmtree(stand_in, ignore_errors=True)  # a stand-in left by a run that died while publishing
        try:
            yield stand_in
        except BaseException:
            if staging is not None:
                _remove(fs, filesystem(staging)[1])
            raise
        publish(stand_in, fs, path, out, filesystem(staging)[1] if staging is not None else None)
        shutil.rmtree(stand_in, ignore_errors=True)
    finally:
        unlock_file(home / "publish", lock)


def _check_remote(out: str, fs: fsspec.AbstractFileSystem, path: str, inputs: list[str], force: bool) -> None:
    for argument in inputs:
        if not is_url(argument) or argument.startswith("file://"):
            continue
        try:
            other, root = filesystem(glob_base(argument))
        except (ImportError, ValueError):
            continue  # discovery reports an input it cannot open
        if other.unstrip_protocol(root) == fs.unstrip_protocol(path) or \
                fs.unstrip_protocol(path).startswith(other.unstrip_protocol(root).rstrip("/") + "/"):
            raise OutputError(f"{out}: output directory is inside the input {argument}; choose another -o")
    if not fs.exists(path):
        return
    if not fs.isdir(path):
        raise OutputError(f"{out}: exists and is not a directory")
    if force or not fs.find(path):
        return
    try:
        manifest = json.loads(fs.cat_file(f"{path}/{MANIFEST}"))
    except (OSError, ValueError):
        manifest = None
    if not (isinstance(manifest, dict) and manifest.get("generator") == GENERATOR):
        raise OutputError(f"{out}: exists and was not written by cleaner (no cleaner manifest.json); "
                          "use --force to replace it")


def glob_base(url: str) -> str:
    """The URL up to its first component with a glob character (``s3://b/d/*.txt`` -> ``s3://b/d``)."""
    scheme, _, rest = url.partition("://")
    parts = rest.split("/")
    for index, part in enumerate(parts):
        if any(ch in part for ch in "*?["):
            return f"{scheme}://" + "/".join(parts[:index])
    return url


def publish(local: Path, fs: fsspec.AbstractFileSystem, path: str, out: str, staging: str | None = None) -> None:
    """Upload the finished output `local` to `path` on `fs` in the order the module docstring
    describes, so that OUT's manifest.json only ever belongs to a complete output. `staging`,
    when given, already holds the records the workers wrote: `local`'s files join them."""
    parent, _, name = path.rpartition("/")
    ident = uuid.uuid4().hex[:12]
    retired = f"{parent}/.{name}.retired-{ident}"
    written = staging is not None
    staging = staging or f"{parent}/.{name}.staging-{ident}"
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    try:
        for relative in _manifest_last(files):
            fs.put_file(str(local / relative), f"{staging}/{relative}")
    except Exception as exc:
        _remove(fs, staging)
        raise OutputError(f"{out}: upload failed, previous output left in place: {_cause(exc)}") from exc
    if written:  # every file of the output, the workers' and the driver's
        files = sorted(p[len(staging) + 1:] for p in fs.find(staging))
    try:
        if fs.exists(path):
            old = sorted(p[len(path) + 1:] for p in fs.find(path))
            for relative in old:
                fs.cp_file(f"{path}/{relative}", f"{retired}/{relative}")
            for relative in reversed(_manifest_last(old)):  # manifest.json first: OUT is now unfinished
                fs.rm_file(f"{path}/{relative}")
        for relative in _manifest_last(files):
            fs.cp_file(f"{staging}/{relative}", f"{path}/{relative}")
    except Exception as exc:
        raise OutputError(f"{out}: publishing failed part-way; OUT has no manifest.json; previous output is in "
                          f"{fs.unstrip_protocol(retired)}, the new one in {fs.unstrip_protocol(staging)}: "
                          f"{_cause(exc)}") from exc
    _remove(fs, staging)
    _remove(fs, retired)


def _manifest_last(files: list[str]) -> list[str]:
    return [f for f in files if f != MANIFEST] + [f for f in files if f == MANIFEST]


def _remove(fs: fsspec.AbstractFileSystem, path: str) -> None:
    """Best effort: a leftover prefix wastes space but never makes an output wrong."""
    try:
        if fs.exists(path):
            fs.rm(path, recursive=True)
    except Exception:  # noqa: BLE001 - the run's outcome is already decided
        pass


def _cause(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
