"""Write a run's output into a staging directory and swap it into place only on success.

On Linux the swap is one renameat2(RENAME_EXCHANGE) call, so at every instant OUT is either the
complete previous output or the complete new one; elsewhere two renames leave a short window in
which the previous output sits at the staging path instead.

A run killed outright (kill -9, out of memory, power loss) cannot clean up after itself, so it
leaves its staging directory beside OUT (and, if killed during the swap, the retired previous
output). A run holds an exclusive lock on ``.OUT.lock`` beside OUT while it writes; holding it,
it knows no other run is using those leftovers and removes them before it starts. The lock is
released by the kernel when a process dies, so a killed run never blocks the next one (its lock
file stays behind, unlocked, until the next run ends), and a second run started while one is
writing is refused instead of racing it for OUT.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import uuid
from pathlib import Path
from types import TracebackType

from cleaner.files import GENERATOR, OutputError, fsync_dir, fsync_tree, lock_file, unlock_file

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def check_output(out: Path, input_roots: list[Path], force: bool) -> None:
    """Refuse an OUT inside an input root, or an existing OUT that cleaner did not write."""
    resolved = out.resolve()
    for root in input_roots:
        root = root.resolve()
        if resolved == root or root in resolved.parents:
            raise OutputError(f"{out}: output directory is inside the input root {root}; choose another -o")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force and not _written_by_cleaner(out):
        raise OutputError(f"{out}: exists and was not written by cleaner (no cleaner manifest.json); "
                          "use --force to replace it")


def _written_by_cleaner(out: Path) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("generator") == GENERATOR


class StagedOutput:
    """Context manager: yields a fresh staging directory beside OUT; commits it on clean exit."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.staging = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:12]}"
        self._lock: int | None = None

    def __enter__(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._lock = lock_file(self.out, f"{self.out}: another cleaner run is writing this output; "
                                         "wait for it to finish")
        try:
            _recover(self.out)
            for leftover in _leftovers(self.out):
                shutil.rmtree(leftover)
            self.staging.mkdir()
        except BaseException:
            unlock_file(self.out, self._lock)
            raise
        return self.staging

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._finish(exc_type is None)
        finally:
            if self._lock is not None:
                unlock_file(self.out, self._lock)
                self._lock = None

    def _finish(self, succeeded: bool) -> None:
        if not succeeded:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        fsync_tree(self.staging)
        if self.out.exists():
            if _exchange(self.staging, self.out):
                shutil.rmtree(self.staging, ignore_errors=True)
            else:
                retired = self.out.parent / f".{self.out.name}.retired-{uuid.uuid4().hex[:12]}"
                os.rename(self.out, retired)
                os.rename(self.staging, self.out)
                shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(self.staging, self.out)
        fsync_dir(self.out.parent)


def _leftovers(out: Path) -> list[Path]:
    """Staging and retired directories of earlier runs on OUT that were killed before cleaning up."""
    prefixes = (f".{out.name}.staging-", f".{out.name}.retired-")
    return sorted(p for p in out.parent.iterdir()
                  if p.name.startswith(prefixes) and p.is_dir() and not p.is_symlink())


def _recover(out: Path) -> None:
    """Put back a previous output that a run killed between the two fallback renames left retired.

    Without renameat2 the swap is OUT -> retired, then staging -> OUT; a kill between the two
    leaves no OUT at all. The retired directory is the complete previous output, so it goes back.
    """
    if out.exists():
        return
    retired = [p for p in _leftovers(out) if p.name.startswith(f".{out.name}.retired-")]
    if retired:
        os.rename(max(retired, key=lambda p: p.stat().st_mtime_ns), out)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
