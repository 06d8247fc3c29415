"""Write a run's output into a staging directory and swap it into place only on success.

On Linux the swap is one renameat2(RENAME_EXCHANGE) call, so at every instant OUT is either the
complete previous output or the complete new one; elsewhere two renames leave a short window in
which the previous output sits at the staging path instead.
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

GENERATOR = "cleaner"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputError(Exception):
    """OUT cannot be written safely; the message is one line naming it and the cause."""


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

    def __enter__(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir()
        return self.staging

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        _fsync_tree(self.staging)
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
        _fsync_dir(self.out.parent)


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


def _fsync_tree(root: Path) -> None:
    for directory, _, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(directory))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
