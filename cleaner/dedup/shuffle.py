"""Files that carry the sharded deduplication's data between its map and reduce steps.

Every step of `sharded.py` runs in some worker, reads its inputs from the work location and
writes its outputs there, so nothing per paragraph passes through the driver. A map step
cuts its rows by destination (a hash range, a task) and writes one file per destination it
has rows for, `<step>/<destination>/<source>.pkl`; the reduce step for a destination reads
just its own directory, its sources in order. Reading sources in order is what keeps every
result independent of which worker ran what, and when.

Keys are spread over `2 ** bits` ranges by their top bits (`key_range`): keys are hashes, so
ranges are even. Paragraph ids (gids, ascending in input order) are spread by a mixed hash
of the id (`node_range`), so a range of consecutive paragraphs does not land on one worker.

The location is a local directory or an fsspec URL (`cleaner.storage`): in a directory a
file is written in place (steps run one after another, so none is read half-written), in a
store it is uploaded whole.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from cleaner import storage
from cleaner.dedup.tokens import fmix64

Rows = dict[str, np.ndarray]

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
    """Write one file. Steps run one after another, so no reader sees it half-written; a run
    that was interrupted starts again from an empty scratch location. In a local directory the
    file is written in place and its directory made only when missing (a step writes thousands
    of files into a few directories); in a store it is uploaded whole. `durable` (a dedup
    state's files) writes it atomically and syncs it, as `arrays.save_array` does."""
    path = storage.join(location, name)
    here = storage.local(path)
    if here is None or durable:
        storage.make_dirs(path.rsplit("/", 1)[0], durable=durable)
        storage.write_atomically(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), durable=durable)
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
    """Cut `rows` by destination (keeping their order within one) and write each piece where
    that destination's reduce step reads it."""
    order = np.argsort(destinations, kind="stable")
    ordered = destinations[order]
    cut = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else np.zeros(0, dtype=np.int64)
    bounds = np.r_[cut, len(ordered)]
    for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        picked = order[begin:end]
        dump(location, f"{step}/{int(ordered[begin]):05d}/{source:08d}.pkl", {k: v[picked] for k, v in rows.items()})


def read_part(location: str, step: str, destination: int, columns: dict[str, Any]) -> tuple[Rows, np.ndarray]:
    """Every source's rows for one destination, in source order, and the source of each row.
    `columns` gives each column's dtype, for a destination no source wrote to."""
    found = names(location, f"{step}/{destination:05d}")
    pieces = [load(location, f"{step}/{destination:05d}/{name}") for name in found]
    sizes = [len(next(iter(piece.values()))) for piece in pieces]
    sources = np.repeat(np.array([int(name.split(".")[0]) for name in found], dtype=np.int64), sizes)
    rows = {k: np.concatenate([piece[k] for piece in pieces]) if pieces else np.zeros(0, dtype=dtype)
            for k, dtype in columns.items()}
    return rows, sources
