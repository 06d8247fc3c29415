"""Where a run keeps its `--state` while it runs, so the state only moves on once OUT is in place.

The state records which inputs were cleaned. Committed before OUT is in place, a failure in
between would make the next run skip inputs whose output never arrived: they would be lost.
A state is a directory of appended runs committed by replacing its index.json (see
`cleaner.dedup.state`); a run writes its new run directory first, which no index lists until
the commit. `pipeline.run` commits after OUT's atomic swap, which covers a local OUT; a URL
OUT is published only after `run` returns (see `cleaner.remote.published`), and a URL state
cannot be written in place at all. So:

- local state, local OUT: the run uses the state directory itself;
- local state, URL OUT: the run uses a private directory inside the state directory holding a
  copy of index.json and a link to the state's runs; the run's new run directory lands among
  them uncommitted, and its index replaces the real one (an atomic rename) only when the whole
  block, publishing included, succeeded;
- URL state (any OUT): the state is downloaded into a private local directory (the index's
  modification time kept, so `--resume` recognises the same state); when the block succeeded,
  the new run's files are uploaded, then the index under a temporary name, moved over the old
  one last; files the new index no longer lists are removed after. Object stores have no lock:
  two runs sharing a state URL at once lose one run's additions (the next run then cleans those
  inputs again, nothing is lost).

Nest it outside `published`, so publishing happens first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cleaner.dedup.state import INDEX, StateError
from cleaner.files import fsync_dir
from cleaner.remote import filesystem, is_url, local_path, remote_stat


@contextmanager
def staged_state(state: str, out: str) -> Iterator[Path]:
    """The local directory a run reads and commits the state `state` in; see the module docstring."""
    try:
        state, out = local_path(state), local_path(out)
    except ValueError as exc:
        raise StateError(str(exc)) from None
    if not is_url(state) and not is_url(out):
        yield Path(state)
        return
    with _remote_state(state) if is_url(state) else _private_copy(Path(state)) as local:
        try:
            yield local
        except StateError as exc:  # name the user's state, not the private copy
            raise StateError(str(exc).replace(str(local), state.rstrip("/"))) from None


@contextmanager
def _private_copy(state_dir: Path) -> Iterator[Path]:
    (state_dir / "runs").mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=".staged-", dir=state_dir))
    try:
        (private / "runs").symlink_to(state_dir.absolute() / "runs", target_is_directory=True)
        if (state_dir / INDEX).is_file():
            shutil.copy2(state_dir / INDEX, private / INDEX)
        before = _modified(private / INDEX)
        yield private
        if (private / INDEX).is_file() and _modified(private / INDEX) != before:
            os.replace(private / INDEX, state_dir / INDEX)
            fsync_dir(state_dir)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _modified(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@contextmanager
def _remote_state(url: str) -> Iterator[Path]:
    fs, path = filesystem(url)
    root = path.rstrip("/")
    local = Path(tempfile.mkdtemp(prefix="cleaner-state-"))
    try:
        try:
            before = {name[len(root) + 1:] for name in fs.find(root)} if fs.exists(root) else set()
            for name in sorted(before):
                (local / name).parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(f"{root}/{name}", str(local / name))
            if INDEX in before:
                modified = remote_stat(fs.info(f"{root}/{INDEX}")).st_mtime_ns
                if modified:
                    os.utime(local / INDEX, ns=(modified, modified))
        except Exception as exc:
            raise StateError(f"{url}: cannot download the dedup state: {exc}") from exc
        old_index = (local / INDEX).read_bytes() if (local / INDEX).is_file() else None
        yield local
        if (local / INDEX).is_file() and (local / INDEX).read_bytes() != old_index:
            after = {str(p.relative_to(local)) for p in local.rglob("*") if p.is_file()}
            uploading = f"{root}/.{INDEX}.uploading-{uuid.uuid4().hex[:12]}"
            try:
                for name in sorted(after - before - {INDEX}):
                    fs.put_file(str(local / name), f"{root}/{name}")
                fs.put_file(str(local / INDEX), uploading)
                fs.mv(uploading, f"{root}/{INDEX}")
            except Exception as exc:
                raise StateError(f"{url}: OUT is in place but uploading the dedup state failed; the previous "
                                 f"state is left, so the next run cleans this run's inputs again: {exc}") from exc
            for name in sorted(before - after):  # merged away or never committed: no index lists them
                fs.rm_file(f"{root}/{name}")
    finally:
        shutil.rmtree(local, ignore_errors=True)
