"""The progress bar on a real terminal, including one that reports no size."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from conftest import REPO, SEEDS


def _stderr_on_a_terminal(tmp_path: Path, rows: int, columns: int) -> str:
    """What `cleaner clean` writes to stderr when stderr is a pseudo-terminal of this size."""
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        process = subprocess.Popen([sys.executable, "-m", "cleaner.cli", "clean", str(SEEDS), "-o",
                                    str(tmp_path / "out"), "--workers", "1"], cwd=REPO, stderr=child,
                                   stdout=subprocess.DEVNULL)
    finally:
        os.close(child)  # the run holds the only other end: reading ends when it exits
    written = b""
    try:
        while chunk := os.read(parent, 1 << 16):  # read while it runs, so a full terminal never blocks it
            written += chunk
    except OSError:  # EIO: the run closed its end
        pass
    finally:
        os.close(parent)
    assert process.wait(timeout=120) == 0
    return written.decode("utf-8", errors="replace")


@pytest.mark.parametrize("rows, columns", [(0, 0), (30, 100)])
def test_progress_bar_shows_on_any_terminal(tmp_path: Path, rows: int, columns: int) -> None:
    written = _stderr_on_a_terminal(tmp_path, rows, columns)
    assert "cleaning:" in written and "|" in written
    assert "cleaned 5 documents into" in written
