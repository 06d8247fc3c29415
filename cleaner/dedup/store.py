"""Shingle sets kept on disk for verification, so they do not count against index memory.

Only candidate pairs need their shingle sets, and those are a small fraction of all
paragraphs; the sets go to an unlinked temporary file and are read back with pread.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import numpy as np

_ITEM = 4  # bytes per uint32 shingle hash
_COPY_CHUNK = 1 << 22  # items per chunk when streaming the whole store


class ShingleStore:
    """Append-only concatenation of uint32 shingle sets in a temporary file."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory)
        self._fd = self._file.fileno()
        self.size = 0  # items written

    def append(self, shingles: np.ndarray) -> int:
        """Write the items and return the offset (in items) they start at."""
        offset = self.size
        os.pwrite(self._fd, np.ascontiguousarray(shingles, dtype="<u4").tobytes(), offset * _ITEM)
        self.size += len(shingles)
        return offset

    def read(self, offset: int, count: int) -> np.ndarray:
        data = os.pread(self._fd, count * _ITEM, offset * _ITEM)
        return np.frombuffer(data, dtype="<u4")

    def chunks(self) -> Iterator[bytes]:
        """The whole store as raw little-endian bytes, in bounded pieces."""
        for offset in range(0, self.size, _COPY_CHUNK):
            yield os.pread(self._fd, min(_COPY_CHUNK, self.size - offset) * _ITEM, offset * _ITEM)

    def close(self) -> None:
        self._file.close()
