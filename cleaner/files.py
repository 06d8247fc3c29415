"""File-system helpers every layer may need: the output lock, durable renames, and the
error an output that cannot be written safely raises.

They sit at the lowest layer because the dedup state, remote outputs and the output directory
all take the same lock and make the same renames durable; none of them should import a writer.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

GENERATOR = "cleaner"  # what manifest.json's "generator" says: an output cleaner may replace


class OutputError(Exception):
    """OUT cannot be written safely; the message is one line naming it and the cause."""


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def lock_file(out: Path, busy: str) -> int:
    """Take the exclusive write lock of OUT (the file ``.OUT.lock`` beside it); if another run
    holds it, raise OutputError with the message `busy`.

    The lock file is removed when a run ends, so a run that opened it just before may hold a
    lock on a file that no longer has a name; it checks that the file it locked is still the
    one at the path, and tries again if not.
    """
    path = _lock_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(busy) from None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        locked = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (locked.st_dev, locked.st_ino):
            return fd
        os.close(fd)


def unlock_file(out: Path, fd: int) -> None:
    """Remove the lock file while still holding the lock, then release it."""
    try:
        os.unlink(_lock_path(out))
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable: the directory entry is data too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Make every file under `root`, and the directories listing them, durable: before the
    rename that makes them visible (OUT's swap)."""
    for directory, _, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(directory))
