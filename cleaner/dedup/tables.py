"""Sorted tables: what one run of the state remembers about one range of keys.

A table is a structured numpy array sorted by its `key` column, saved as `<name>.npy`, with
the key column alone beside it as `<name>.key.npy`. A later run asks a table only about the
keys it holds itself: the key file is binary-searched (memory-mapped in a local directory)
and only the rows found are read (`arrays.py`). So looking a few new keys up costs a few
pages, not the whole table, and an incremental run's cost follows its own size rather than
the history's. `path` is the table's name without a suffix, a local path or a URL.
"""

from __future__ import annotations

import numpy as np

from cleaner import storage
from cleaner.dedup.arrays import open_array, save_array


def save_table(path: str, rows: np.ndarray, *, durable: bool = False) -> None:
    """Save rows already sorted by `key` (`durable`: see `save_array`)."""
    save_array(f"{path}.npy", rows, durable=durable)
    save_array(f"{path}.key.npy", rows["key"], durable=durable)


def find(path: str, queries: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose key is one of `queries` (sorted), and for each row the query it answers."""
    key_file = f"{path}.key.npy"
    if not len(queries) or not storage.exists(key_file):
        return np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
    keys = open_array(key_file).whole()
    if not len(keys):
        return np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
    low = np.searchsorted(keys, queries, side="left")
    high = np.searchsorted(keys, queries, side="right")
    counts = high - low
    if not counts.any():  # the rows' file is not opened at all (in a store: no request)
        return np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
    at = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()), dtype=np.int64)
    return open_array(f"{path}.npy").take(at), np.repeat(np.arange(len(queries)), counts)


def read_table(path: str, dtype: np.dtype) -> np.ndarray:
    """A whole table (for compaction), empty if it was never written."""
    target = f"{path}.npy"
    return np.array(open_array(target).whole()) if storage.exists(target) else np.zeros(0, dtype=dtype)
