"""Progress on stderr for long runs: bytes and documents per second, and the time left.

Shown only on a terminal and never with --quiet, so logs of unattended runs hold nothing but
warnings, errors and the one-line summary.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress_bar(total: int, description: str, enabled: bool, unit: str = "B") -> Any:
    return tqdm(total=total, desc=description, unit=unit, unit_scale=unit == "B", unit_divisor=1024,
                disable=not enabled, file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0.5)
