"""Helpers for the reader tests: a Source for a file as the pipeline would build it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cleaner.document import Source


def source_for(path: Path, root: Path, fmt: str) -> Source:
    data = path.read_bytes()
    return Source(
        path=path.relative_to(root).as_posix(),
        root=str(root),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        format=fmt,
    )
