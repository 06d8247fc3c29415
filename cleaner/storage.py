"""Files under a *work location*: a local directory or an fsspec URL (``s3://bucket/work``).

Phase-1 spill files, dedup steps' files and per-task output parts are written by whichever
process computes them, on whichever machine: on a cluster whose workers do not share the
driver's disk, the location is a URL every node can reach. Every function takes locations and
file paths as ``str`` (or a Path), so the same call works for both; ``file://`` URLs are plain
local paths (see `remote.local_path`).

Writes are atomic per file: a reader sees a file whole or not at all. Locally a temporary name
is renamed over the target; for a store the file is spooled locally and uploaded in one put
(an object only appears once its upload has completed). Credentials come from where the fsspec backend
finds them itself (environment, config files, instance roles), never from the driver.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cleaner.files import OutputError, fsync_dir
from cleaner.remote import filesystem, is_url, local_path

Location = str | os.PathLike[str]


def local(location: Location) -> str | None:
    """The local path a location names, or None for a URL of a remote store."""
    name = local_path(os.fspath(location))
    return None if is_url(name) else name


def join(location: Location, *names: str) -> str:
    """A file or directory under `location`; `names` are relative, '/'-separated."""
    base = os.fspath(location)
    return "/".join([base.rstrip("/"), *names]) if names else base


def make_dirs(location: Location, *, durable: bool = False) -> None:
    """Create the directory (and its parents) where a local location is; object stores need none.

    `durable` also syncs the parent of every directory it creates, so the new directories
    survive a machine crash (their files are synced by `open_atomically`).
    """
    path = local(location)
    if path is None:
        return
    target = Path(path)
    if not durable:
        target.mkdir(parents=True, exist_ok=True)
        return
    missing = []
    while not target.is_dir():
        missing.append(target)
        target = target.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        fsync_dir(directory.parent)


@contextmanager
def open_read(path: Location) -> Iterator[BinaryIO]:
    """A file under a location, open for reading bytes."""
    here = local(path)
    if here is not None:
        with open(here, "rb") as handle:
            yield handle
        return
    fs, inner = filesystem(os.fspath(path))
    with fs.open(inner, "rb") as handle:
        yield handle


def read_bytes(path: Location) -> bytes:
    with open_read(path) as handle:
        return handle.read()


@contextmanager
def open_atomically(path: Location, *, durable: bool = False, sync_directory: bool = True) -> Iterator[BinaryIO]:
    """A file open for writing that appears at `path` only when the block exits without error.

    `durable` also syncs a local file to disk before it is renamed, and its directory after
    (for files that must survive a machine crash: finished phase-1 work kept for --resume, the
    files of a dedup state), unless `sync_directory` is False because the caller syncs it once
    after several files. In a store an object is durable once its put has returned.
    """
    target = local(path)
    if target is None:
        # Spooled to a local file and uploaded in one put: a failure mid-write uploads nothing
        # (closing a half-written fsspec file would commit what it holds).
        with tempfile.NamedTemporaryFile(prefix="cleaner-upload-") as spooled:
            yield spooled  # type: ignore[misc]
            spooled.flush()
            put_file(Path(spooled.name), path)
        return
    temporary = f"{target}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(temporary, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, target)
        if durable and sync_directory:
            fsync_dir(Path(target).parent)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def put_file(finished: Path, path: Location) -> None:
    """Move a finished local file to `path`; for a store, upload it in one put (the object
    appears whole or not at all). A failed upload is an OutputError naming the target."""
    target = local(path)
    if target is not None:
        shutil.move(finished, target)
        return
    fs, inner = filesystem(os.fspath(path))
    try:
        fs.put_file(str(finished), inner)
    except Exception as exc:
        cause = " ".join(str(exc).split())
        raise OutputError(f"{os.fspath(path)}: cannot write: {type(exc).__name__}{': ' + cause if cause else ''}") \
            from exc


def write_atomically(path: Location, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to `path` whole (see `open_atomically`)."""
    with open_atomically(path, durable=durable) as handle:
        handle.write(data)


def exists(path: Location) -> bool:
    here = local(path)
    if here is not None:
        return os.path.exists(here)
    fs, inner = filesystem(os.fspath(path))
    return bool(fs.exists(inner))


def size(path: Location) -> int:
    """The size of a file in bytes; 0 when it does not exist."""
    here = local(path)
    try:
        if here is not None:
            return os.path.getsize(here)
        fs, inner = filesystem(os.fspath(path))
        return int(fs.size(inner))
    except FileNotFoundError:
        return 0


def list_names(location: Location) -> list[str]:
    """Names of the files directly under `location`, sorted; empty when it does not exist."""
    return sorted(name for name, kind in _entries(location) if kind == "file")


def list_dirs(location: Location) -> list[str]:
    """Names of the directories directly under `location` (in a store: the prefixes), sorted."""
    return sorted(name for name, kind in _entries(location) if kind == "directory")


def _entries(location: Location) -> list[tuple[str, str]]:
    """(name, "file" or "directory" or "other") of each entry directly under `location`."""
    here = local(location)
    try:
        if here is not None:
            return [(entry.name, "directory" if entry.is_dir() else "file" if entry.is_file() else "other")
                    for entry in os.scandir(here)]
        fs, inner = filesystem(os.fspath(location))
        return [(entry["name"].rstrip("/").rsplit("/", 1)[-1], entry["type"]) for entry in fs.ls(inner, detail=True)]
    except FileNotFoundError:
        return []


def remove(path: Location) -> None:
    """Remove one file; a file already gone is fine."""
    here = local(path)
    if here is not None:
        try:
            os.unlink(here)
        except FileNotFoundError:
            pass
        return
    fs, inner = filesystem(os.fspath(path))
    try:
        fs.rm_file(inner)
    except FileNotFoundError:
        pass


def remove_tree(location: Location) -> None:
    """Remove a location and everything under it; one already gone is fine."""
    here = local(location)
    if here is not None:
        shutil.rmtree(here, ignore_errors=True)
        return
    fs, inner = filesystem(os.fspath(location))
    if fs.exists(inner):
        fs.rm(inner, recursive=True)
