"""Sorted tables: what one run of the state remembers about one range of keys.

A table is a structured numpy array sorted by its `key` column, saved as `<name>.npy`, with
the key column alone beside it as `<name>.key.npy`. A later run asks a table only about the
keys it holds itself: the key file is memory-mapped and binary-searched, and only the rows
found are read. So looking a few new keys up costs a few pages, not the whole table, and an
incremental run's cost follows its own size rather than the history's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_table(path: Path, rows: np.ndarray) -> None:
    """Save rows already sorted by `key`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, value in ((path.with_suffix(".npy"), rows), (path.with_suffix(".key.npy"), rows["key"])):
        temporary = target.with_name(f".{target.name}.tmp")
        with temporary.open("wb") as handle:
            np.lib.format.write_array(handle, np.ascontiguousarray(value), allow_pickle=False)
        temporary.replace(target)


def find(path: Path, queries: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose key is one of `queries` (sorted), and for each row the query it answers."""
    key_file = path.with_suffix(".key.npy")
    if not key_file.is_file() or not len(queries):
        return np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
    keys = np.load(key_file, mmap_mode="r")
    if not len(keys):
        return np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
    low = np.searchsorted(keys, queries, side="left")
    high = np.searchsorted(keys, queries, side="right")
    counts = high - low
    at = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()), dtype=np.int64)
    rows = np.load(path.with_suffix(".npy"), mmap_mode="r")
    return np.array(rows[at]), np.repeat(np.arange(len(queries)), counts)


def read_table(path: Path, dtype: np.dtype) -> np.ndarray:
    """A whole table (for compaction), empty if it was never written."""
    target = path.with_suffix(".npy")
    return np.load(target) if target.is_file() else np.zeros(0, dtype=dtype)
