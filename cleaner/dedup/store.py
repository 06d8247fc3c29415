"""Index data kept in unlinked temporary files instead of memory.

Shingle sets are needed only for candidate pairs, and band hashes only while LSH buckets are
formed (one band at a time) and when the state is saved, so both are appended to files and
read back with pread, or gathered through a memory map that lives for one call. Pages read
this way sit in the OS page cache, not in the process's resident memory, which keeps the
in-memory index to a few dozen bytes per paragraph.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import numpy as np

from cleaner.dedup.columns import run_indexes

_CHUNK_BYTES = 1 << 23  # read granularity when streaming a whole file
_GATHER_RUNS = 256  # runs gathered per mapping (each page fault maps up to 64 KB around it)


class SpillFile:
    """Append-only rows of one little-endian dtype, `width` values per row."""

    def __init__(self, dtype: str, width: int = 1, directory: str | None = None) -> None:
        self._dtype = np.dtype(dtype)
        self._width = width
        self._row_bytes = self._dtype.itemsize * width
        self._file = tempfile.TemporaryFile(dir=directory)
        self._fd = self._file.fileno()
        self.size = 0  # rows written

    def append(self, values: np.ndarray) -> None:
        data = np.ascontiguousarray(values, dtype=self._dtype).tobytes()
        os.pwrite(self._fd, data, self.size * self._row_bytes)
        self.size += len(data) // self._row_bytes

    def append_bytes(self, data: bytes) -> None:
        os.pwrite(self._fd, data, self.size * self._row_bytes)
        self.size += len(data) // self._row_bytes

    def read(self, row: int, count: int) -> np.ndarray:
        data = os.pread(self._fd, count * self._row_bytes, row * self._row_bytes)
        values = np.frombuffer(data, dtype=self._dtype)
        return values if self._width == 1 else values.reshape(-1, self._width)

    def gather(self, rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rows rows[i] .. rows[i] + counts[i] - 1 for every i, back to back: thousands of small
        reads as a few vectorised copies out of a memory map of the file.

        Every page a copy touches counts in this process's resident memory for as long as it is
        mapped, so the file is mapped for _GATHER_RUNS runs at a time and unmapped after.
        """
        pieces = []
        shape = (self.size, self._width) if self._width > 1 else (self.size,)
        for begin in range(0, len(rows), _GATHER_RUNS):
            starts, lengths = rows[begin:begin + _GATHER_RUNS], counts[begin:begin + _GATHER_RUNS]
            if lengths.sum():
                view = np.memmap(self._file, dtype=self._dtype, mode="r", shape=shape)
                pieces.append(view[run_indexes(starts, lengths)])
                del view
        if not pieces:
            return np.zeros((0, self._width) if self._width > 1 else 0, dtype=self._dtype)
        return np.concatenate(pieces)

    def chunks(self) -> Iterator[bytes]:
        """The whole file as raw bytes, in pieces of whole rows."""
        step = max(1, _CHUNK_BYTES // self._row_bytes)
        for row in range(0, self.size, step):
            yield os.pread(self._fd, min(step, self.size - row) * self._row_bytes, row * self._row_bytes)

    def column(self, index: int) -> np.ndarray:
        """One value of every row (e.g. one LSH band of every paragraph), read in chunks."""
        out = np.empty(self.size, dtype=self._dtype)
        row = 0
        for data in self.chunks():
            values = np.frombuffer(data, dtype=self._dtype).reshape(-1, self._width)
            out[row : row + len(values)] = values[:, index]
            row += len(values)
        return out

    def close(self) -> None:
        self._file.close()
