"""Progress on stderr for long runs: bytes and documents per second, and the time left.

Shown only on a terminal and never with --quiet, so logs of unattended runs hold nothing but
warnings, errors and the one-line summary.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from tqdm import tqdm

# The size assumed on a terminal that reports none (0 x 0: a serial console, some CI
# pseudo-terminals), where tqdm's own sizing would count -1 rows and draw nothing at all.
FALLBACK_SIZE: dict[str, Any] = {"ncols": 80, "nrows": 24}


def progress_bar(total: int, description: str, enabled: bool, unit: str = "B") -> Any:
    size = {"dynamic_ncols": True} if terminal_columns(sys.stderr) > 0 else FALLBACK_SIZE
    return tqdm(total=total, desc=description, unit=unit, unit_scale=unit == "B", unit_divisor=1024,
                disable=not enabled, file=sys.stderr, leave=False, mininterval=0.5, **size)


def terminal_columns(stream: Any) -> int:
    """The width the terminal behind `stream` reports; 0 when it reports none or is no terminal."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0
