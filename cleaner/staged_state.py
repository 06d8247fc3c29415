"""Where a run keeps its `--state` while it runs, so the state only moves on once OUT is in place.

The state records which inputs were cleaned. Saved before OUT is in place, a failure in
between would make the next run skip inputs whose output never arrived: they would be lost.
`pipeline.run` saves the state after OUT's atomic swap, which covers a local OUT; a URL OUT is
published only after `run` returns (see `cleaner.remote.published`), and a URL state cannot
be written in place at all. So:

- local state, local OUT: the run uses the state directory itself;
- local state, URL OUT: the run uses a private directory inside the state directory holding a
  hard link to the current state file; the new file replaces the real one (an atomic rename)
  only when the whole block, publishing included, succeeded;
- URL state (any OUT): the state file is downloaded into a private local directory (its
  modification time kept, so `--resume` recognises the same state) and uploaded back, under a
  temporary name first and then moved over the old one, only when the block succeeded. Object
  stores have no lock: two runs sharing a state URL at once lose one run's additions (the
  next run then cleans those inputs again, nothing is lost).

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

from cleaner.dedup.state import FILENAME, StateError
from cleaner.files import fsync_dir
from cleaner.remote import filesystem, is_url, local_path, remote_stat


@contextmanager
def staged_state(state: str, out: str) -> Iterator[Path]:
    """The local directory a run reads and saves the state `state` in; see the module docstring."""
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
    state_dir.mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=".staged-", dir=state_dir))
    try:
        if (state_dir / FILENAME).is_file():
            try:  # the state saves by rename, so a hard link leaves the original as it is
                os.link(state_dir / FILENAME, private / FILENAME)
            except OSError:  # a filesystem without hard links
                shutil.copy2(state_dir / FILENAME, private / FILENAME)
        yield private
        if (private / FILENAME).is_file():
            os.replace(private / FILENAME, state_dir / FILENAME)
            fsync_dir(state_dir)
    finally:
        shutil.rmtree(private, ignore_errors=True)


@contextmanager
def _remote_state(url: str) -> Iterator[Path]:
    fs, path = filesystem(url)
    remote_file = f"{path.rstrip('/')}/{FILENAME}"
    local = Path(tempfile.mkdtemp(prefix="cleaner-state-"))
    try:
        try:
            if fs.exists(remote_file):
                fs.get_file(remote_file, str(local / FILENAME))
                modified = remote_stat(fs.info(remote_file)).st_mtime_ns
                if modified:
                    os.utime(local / FILENAME, ns=(modified, modified))
        except Exception as exc:
            raise StateError(f"{url}: cannot download the dedup state: {exc}") from exc
        yield local
        if (local / FILENAME).is_file():
            uploading = f"{path.rstrip('/')}/.{FILENAME}.uploading-{uuid.uuid4().hex[:12]}"
            try:
                fs.put_file(str(local / FILENAME), uploading)
                fs.mv(uploading, remote_file)
            except Exception as exc:
                raise StateError(f"{url}: OUT is in place but uploading the dedup state failed; the previous "
                                 f"state is left, so the next run cleans this run's inputs again: {exc}") from exc
    finally:
        shutil.rmtree(local, ignore_errors=True)
