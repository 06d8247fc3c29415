"""Append-only numpy columns that grow in fixed-size chunks, and runs of rows as indexes.

Rows are copied into preallocated chunks of CHUNK rows, so a large index neither keeps one
small numpy object per document nor copies the whole column when it grows.
"""

from __future__ import annotations

import numpy as np

CHUNK = 1 << 16


def run_indexes(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """starts[i], starts[i] + 1, ..., starts[i] + lengths[i] - 1 for every i, back to back: many
    variable-length runs (shingle sets, a token's words) gathered with one fancy index."""
    total = int(lengths.sum())
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total, dtype=np.int64)


class Column:
    def __init__(self, dtype: type, width: int | None = None) -> None:
        self._dtype = dtype
        self._row_shape: tuple[int, ...] = () if width is None else (width,)
        self._chunks: list[np.ndarray] = []
        self._fill = CHUNK  # rows used in the last chunk; CHUNK means "allocate a new one"
        self.rows = 0

    def append(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self._dtype)
        done = 0
        while done < len(values):
            if self._fill == CHUNK:
                self._chunks.append(np.empty((CHUNK, *self._row_shape), dtype=self._dtype))
                self._fill = 0
            take = min(CHUNK - self._fill, len(values) - done)
            self._chunks[-1][self._fill : self._fill + take] = values[done : done + take]
            self._fill += take
            done += take
        self.rows += len(values)

    def _parts(self) -> list[np.ndarray]:
        if not self._chunks:
            return []
        return self._chunks[:-1] + [self._chunks[-1][: self._fill]]

    def concat(self) -> np.ndarray:
        parts = self._parts()
        return np.concatenate(parts) if parts else np.zeros((0, *self._row_shape), dtype=self._dtype)

    def take(self) -> np.ndarray:
        """The whole column as one array, releasing the chunks (the column is empty after)."""
        out = self.concat()
        self._chunks = []
        self._fill = CHUNK
        self.rows = 0
        return out

    def column(self, index: int) -> np.ndarray:
        """One column of a 2-D column, without materialising the others."""
        parts = self._parts()
        return np.concatenate([part[:, index] for part in parts]) if parts else np.zeros(0, dtype=self._dtype)
