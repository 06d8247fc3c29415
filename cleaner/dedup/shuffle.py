"""Files that carry the sharded deduplication's data between its map and reduce steps.

Every step of `sharded.py` runs in some worker, reads its inputs from the work location and
writes its outputs there, so nothing per paragraph passes through the driver. A map call
writes its rows sorted by destination (a hash range, a task) as one file,
`<step>/<source>.npy`, and beside it where each destination's rows start,
`<step>/<source>.starts.npy`; the reduce call for a destination reads just its slice of each
source's file (two small reads: its start and the rows), its sources in order. Reading sources
in order is what keeps every result independent of which worker ran what, and when. So a step
writes two files per source, whatever the number of destinations (as Spark's sort-based
shuffle does), and reads one slice per source and destination that have rows.

Keys are spread over `2 ** bits` ranges by their top bits (`key_range`): keys are hashes, so
ranges are even. Paragraph ids (gids, ascending in input order) are spread by a mixed hash
of the id (`node_range`), so a range of consecutive paragraphs does not land on one worker.

The location is a local directory or an fsspec URL (`cleaner.storage`): the files are read
through a memory map in a directory and by ranged reads in a store (`arrays.py`). A few
small files that are not rows (a task's links, a range's labels) are pickled whole (`dump`).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from cleaner import storage
from cleaner.dedup.arrays import open_array, save_array
from cleaner.dedup.tokens import fmix64

Rows = dict[str, np.ndarray]
_STARTS = ".starts.npy"

def key_range(keys: np.ndarray, bits: int) -> np.ndarray:
    """The range of each 64-bit hash key: its top `bits` bits."""
    keys = np.asarray(keys, dtype=np.uint64)
    if not bits:
        return np.zeros(len(keys), dtype=np.int64)
    return (keys >> np.uint64(64 - bits)).astype(np.int64)


def node_range(gids: np.ndarray, bits: int) -> np.ndarray:
    """The range that owns each paragraph id in the connected-components steps."""
    return key_range(fmix64(np.asarray(gids, dtype=np.int64).astype(np.uint64)), bits)


def dump(location: str, name: str, value: Any) -> None:
    """Write one file. Steps run one after another, so no reader sees it half-written; a run
    that was interrupted starts again from an empty scratch location. In a local directory the
    file is written in place and its directory made only when missing (a step writes thousands
    of files into a few directories); in a store it is uploaded whole."""
    path = storage.join(location, name)
    here = storage.local(path)
    if here is None:
        storage.write_atomically(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return
    target = Path(here)
    try:
        handle = target.open("wb")
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = target.open("wb")
    with handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def exists(location: str, name: str) -> bool:
    return storage.exists(storage.join(location, name))


def load(location: str, name: str) -> Any:
    with storage.open_read(storage.join(location, name)) as handle:
        return pickle.load(handle)


def names(location: str, directory: str) -> list[str]:
    """The files a step wrote into one of its directories, sorted (none if it wrote none)."""
    return storage.list_names(storage.join(location, directory))


def write_parts(location: str, step: str, source: int, destinations: np.ndarray, rows: Rows) -> None:
    """Write `rows` as one file sorted by destination (keeping their order within one), with an
    index of where each destination's rows start, so each reduce call reads just its slice.
    A source with no rows writes nothing."""
    if not len(destinations):
        return
    order = np.argsort(destinations, kind="stable")
    table = np.zeros(len(order), dtype=[(name, column.dtype) for name, column in rows.items()])
    for name, column in rows.items():
        table[name] = column[order]
    starts = np.searchsorted(destinations[order], np.arange(int(destinations[order[-1]]) + 2))
    save_array(storage.join(location, step, f"{source:08d}.npy"), table)
    save_array(storage.join(location, step, f"{source:08d}{_STARTS}"), starts.astype(np.int64))


def read_part(location: str, step: str, destination: int, columns: dict[str, Any]) -> tuple[Rows, np.ndarray]:
    """Every source's rows for one destination, in source order, and the source of each row.
    `columns` gives each column's dtype, for a destination no source wrote to."""
    pieces, sources = [], []
    for name in names(location, step):
        if not name.endswith(_STARTS):
            continue
        starts = open_array(storage.join(location, step, name))
        if destination + 1 >= len(starts):
            continue  # this source's largest destination is smaller
        begin, end = starts.take(np.array([destination, destination + 1])).tolist()
        if end > begin:
            source = name[:-len(_STARTS)]
            pieces.append(open_array(storage.join(location, step, f"{source}.npy")).span(begin, end))
            sources.append(np.full(end - begin, int(source), dtype=np.int64))
    rows = {name: np.concatenate([piece[name] for piece in pieces]) if pieces else np.zeros(0, dtype=dtype)
            for name, dtype in columns.items()}
    return rows, np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
