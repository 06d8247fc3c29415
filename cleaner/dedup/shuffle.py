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
from typing import Any

import numpy as np

from cleaner import storage
from cleaner.dedup.arrays import open_array, save_array
from cleaner.dedup.components import Spread
from cleaner.dedup.tokens import fmix64

Rows = dict[str, np.ndarray]
_STARTS = ".starts.npy"
_SOURCE = "_source"  # the column that keeps each row's source in a merged file
# A step with more sources than this has its files merged (`merge_sources`); a merge call
# holds about WINDOW_BYTES of rows at a time.
FAN_IN = 128
WINDOW_BYTES = 64 << 20


def key_range(keys: np.ndarray, bits: int) -> np.ndarray:
    """The range of each 64-bit hash key: its top `bits` bits."""
    keys = np.asarray(keys, dtype=np.uint64)
    if not bits:
        return np.zeros(len(keys), dtype=np.int64)
    return (keys >> np.uint64(64 - bits)).astype(np.int64)


def node_range(gids: np.ndarray, bits: int) -> np.ndarray:
    """The range that owns each paragraph id in the connected-components steps."""
    return key_range(fmix64(np.asarray(gids, dtype=np.int64).astype(np.uint64)), bits)


def dump(location: str, name: str, value: Any, *, durable: bool = False) -> None:
    """Write one pickled file whole (a task's links, a range's labels, a chunk's document ids):
    a reader sees it complete or not at all. `durable` (a dedup state's files) also syncs it,
    as `arrays.save_array` does."""
    path = storage.join(location, name)
    storage.make_dirs(path.rsplit("/", 1)[0], durable=durable)
    storage.write_atomically(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), durable=durable)


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


def _stems(location: str, step: str) -> list[str]:
    """The step's sources, in source order."""
    return [name[:-len(_STARTS)] for name in names(location, step) if name.endswith(_STARTS)]


def read_part(location: str, step: str, destination: int, columns: dict[str, Any]) -> tuple[Rows, np.ndarray]:
    """Every source's rows for one destination, in source order, and the source of each row.
    `columns` gives each column's dtype, for a destination no source wrote to."""
    pieces, sources = [], []
    for stem in _stems(location, step):
        starts = open_array(storage.join(location, step, f"{stem}{_STARTS}"))
        if destination + 1 >= len(starts):
            continue  # this source's largest destination is smaller
        begin, end = starts.take(np.array([destination, destination + 1])).tolist()
        if end > begin:
            rows = open_array(storage.join(location, step, f"{stem}.npy")).span(begin, end)
            pieces.append(rows)
            sources.append(rows[_SOURCE] if _SOURCE in rows.dtype.names else np.full(end - begin, int(stem), np.int64))
    found = {name: np.concatenate([piece[name] for piece in pieces]) if pieces else np.zeros(0, dtype=dtype)
             for name, dtype in columns.items()}
    return found, np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)


def merge_sources(location: str, spread: Spread, *steps: str) -> None:
    """Merge each step's files FAN_IN at a time (rounds of it) until at most FAN_IN are left.

    A reduce call reads a slice of every source's file, so sources x destinations reads per
    step: at terabytes, with tens of thousands of each, billions of small reads. Merging
    consecutive sources' files into one (each row keeping its source, rows still in source
    order within a destination) costs one more sequential pass over the step's rows and bounds
    a reduce call's reads by 2 x FAN_IN, as the merge of shuffle blocks does in Spark."""
    for step in steps:
        stems = _stems(location, step)
        while len(stems) > FAN_IN:
            blocks = [tuple(stems[at:at + FAN_IN]) for at in range(0, len(stems), FAN_IN)]
            list(spread(merge_block, [(block,) for block in blocks], (location, step)))
            stems = _stems(location, step)


def merge_block(location: str, step: str, stems: tuple[str, ...]) -> None:
    """One merged file for these consecutive sources (named after the first, so it sorts where
    they did), written a window of destinations at a time; then the sources' files go."""
    data = [open_array(storage.join(location, step, f"{stem}.npy")) for stem in stems]
    starts = [open_array(storage.join(location, step, f"{stem}{_STARTS}")) for stem in stems]
    dtype = data[0].dtype
    plain = np.dtype([(name, dtype[name]) for name in dtype.names if name != _SOURCE])
    merged = np.dtype([*((name, plain[name]) for name in plain.names), (_SOURCE, np.int64)])
    total = sum(len(rows) for rows in data)
    ends = [len(index) - 1 for index in starts]  # each source's destinations
    width = max(ends)
    windows = max(1, -(-total * merged.itemsize // WINDOW_BYTES))
    bounds = np.linspace(0, width, windows + 1).astype(np.int64)
    out_starts = np.zeros(width + 1, dtype=np.int64)
    target = storage.join(location, step, f"{stems[0]}m.npy")
    with storage.open_atomically(target) as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": np.lib.format.dtype_to_descr(merged),
                                                      "fortran_order": False, "shape": (total,)})
        for low, high in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            tables, places = [], []
            for stem, rows, index, end in zip(stems, data, starts, ends):
                if low >= end:
                    continue
                at = index.span(low, min(high, end) + 1)
                table = rows.span(int(at[0]), int(at[-1]))
                piece = np.zeros(len(table), dtype=merged)
                for name in plain.names:
                    piece[name] = table[name]
                piece[_SOURCE] = table[_SOURCE] if _SOURCE in table.dtype.names else int(stem)
                tables.append(piece)
                places.append(np.repeat(np.arange(low, low + len(at) - 1), np.diff(at)))
            if not tables:
                continue
            place = np.concatenate(places)
            order = np.argsort(place, kind="stable")  # by destination, sources in order within one
            handle.write(np.concatenate(tables)[order].tobytes())
            out_starts[low + 1:high + 1] += np.bincount(place - low, minlength=high - low)
        np.cumsum(out_starts, out=out_starts)
    save_array(storage.join(location, step, f"{stems[0]}m{_STARTS}"), out_starts)
    for stem in stems:
        storage.remove(storage.join(location, step, f"{stem}.npy"))
        storage.remove(storage.join(location, step, f"{stem}{_STARTS}"))
