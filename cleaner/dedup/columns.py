"""Append-only numpy columns that grow without copying the whole column.

Small per-document arrays are buffered and merged into chunks of about CHUNK rows, so the
per-array overhead of numpy objects does not dominate the memory of a large index.
"""

from __future__ import annotations

import numpy as np

CHUNK = 1 << 16


class Column:
    def __init__(self, dtype: type, width: int | None = None) -> None:
        self._dtype = dtype
        self._shape: tuple[int, ...] = (0,) if width is None else (0, width)
        self._chunks: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self.rows = 0

    def append(self, values: np.ndarray) -> None:
        self._pending.append(np.asarray(values, dtype=self._dtype))
        self._pending_rows += len(values)
        self.rows += len(values)
        if self._pending_rows >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._chunks.append(np.concatenate(self._pending))
            self._pending = []
            self._pending_rows = 0

    def concat(self) -> np.ndarray:
        self._flush()
        if not self._chunks:
            return np.zeros(self._shape, dtype=self._dtype)
        return np.concatenate(self._chunks)

    def take(self) -> np.ndarray:
        """The whole column as one array, releasing the chunks (the column is empty after)."""
        out = self.concat()
        self._chunks = []
        self.rows = 0
        return out

    def column(self, index: int) -> np.ndarray:
        """One column of a 2-D column, without materialising the others."""
        self._flush()
        if not self._chunks:
            return np.zeros(0, dtype=self._dtype)
        return np.concatenate([chunk[:, index] for chunk in self._chunks])
