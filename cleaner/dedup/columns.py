"""Runs of rows as indexes: many variable-length runs gathered with one fancy index."""

from __future__ import annotations

import numpy as np


def run_indexes(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """starts[i], starts[i] + 1, ..., starts[i] + lengths[i] - 1 for every i, back to back: many
    variable-length runs (shingle sets, a token's words) gathered with one fancy index."""
    total = int(lengths.sum())
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total, dtype=np.int64)
