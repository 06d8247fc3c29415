"""Sorted tables: what one run of the state remembers about one range of keys.

A table is a structured numpy array sorted by its `key` column, saved as `<name>.npy`, with
the key column alone beside it as `<name>.key.npy` and every FENCE-th key as
`<name>.fence.npy` (as an SSTable's index block does). A later run asks a table only about the
keys it holds itself. Locally the key file is binary-searched through a memory map, which
touches only the pages the search needs; in a store, the fence, a 1,024th of the keys, is read
whole and says which blocks of the key file can hold a query, and only those blocks are
fetched by ranged reads (`arrays.py`). Then only the rows found are read. So looking a few new
keys up costs a few pages or requests, not the whole table, and an incremental run's cost
follows its own size rather than the history's. `path` is the table's name without a suffix,
a local path or a URL.
"""

from __future__ import annotations

import numpy as np

from cleaner import storage
from cleaner.dedup.arrays import MappedArray, open_array, save_array
from cleaner.dedup.columns import run_indexes

FENCE = 1024  # keys per block of the key file: 8 KB


def save_table(path: str, rows: np.ndarray, *, durable: bool = False) -> None:
    """Save rows already sorted by `key` (`durable`: see `save_array`); the fence goes last, so
    a table whose fence exists is whole. The three files share a directory, synced once after
    the last (a state's incremental run writes six tables per range: its fixed cost)."""
    save_array(f"{path}.npy", rows, durable=durable, sync_directory=False)
    save_array(f"{path}.key.npy", rows["key"], durable=durable, sync_directory=False)
    save_array(f"{path}.fence.npy", rows["key"][::FENCE], durable=durable)


def find(path: str, queries: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose key is one of `queries` (sorted), and for each row the query it answers."""
    nothing = np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
    fence_file = f"{path}.fence.npy"
    if not len(queries) or not storage.exists(fence_file):
        return nothing
    key_file = open_array(f"{path}.key.npy")
    positions = None
    if isinstance(key_file, MappedArray):  # a binary search over the map touches only the pages it needs
        keys = key_file.whole()
    else:
        fence = open_array(fence_file).whole()
        # Block b holds keys b*FENCE onwards, all >= fence[b]: a query's rows lie in the blocks
        # from the last one starting below it to the last one starting at or below it.
        first = np.maximum(np.searchsorted(fence, queries, side="left") - 1, 0)
        last = np.searchsorted(fence, queries, side="right")
        blocks = np.unique(run_indexes(first, last - first))
        positions = run_indexes(blocks * FENCE, np.minimum(FENCE, len(key_file) - blocks * FENCE))
        keys = key_file.take(positions)
    low = np.searchsorted(keys, queries, side="left")
    counts = np.searchsorted(keys, queries, side="right") - low
    if not counts.any():  # the rows' file is not opened at all (in a store: no request)
        return nothing
    at = run_indexes(low, counts)
    return open_array(f"{path}.npy").take(at if positions is None else positions[at]), \
        np.repeat(np.arange(len(queries)), counts)


def read_table(path: str, dtype: np.dtype) -> np.ndarray:
    """A whole table (for compaction), empty if it was never written."""
    target = f"{path}.npy"
    return np.array(open_array(target).whole()) if storage.exists(target) else np.zeros(0, dtype=dtype)
