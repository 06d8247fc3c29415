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

The location is a local directory for now: `_path` is the one place that turns names into
paths, to be swapped for fsspec when the work location may be a URL.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.dedup.tokens import fmix64

Rows = dict[str, np.ndarray]


def _path(location: str, *names: str) -> Path:
    return Path(location, *names)


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
    that was interrupted starts again from an empty scratch location. The directory is made
    only when missing: a step writes thousands of files into a few directories."""
    target = _path(location, name)
    try:
        handle = target.open("wb")
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = target.open("wb")
    with handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def exists(location: str, name: str) -> bool:
    return _path(location, name).is_file()


def load(location: str, name: str) -> Any:
    with _path(location, name).open("rb") as handle:
        return pickle.load(handle)


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
    directory = _path(location, step, f"{destination:05d}")
    names = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    pieces = [load(location, f"{step}/{destination:05d}/{name}") for name in names]
    sizes = [len(next(iter(piece.values()))) for piece in pieces]
    sources = np.repeat(np.array([int(name.split(".")[0]) for name in names], dtype=np.int64), sizes)
    rows = {k: np.concatenate([piece[k] for piece in pieces]) if pieces else np.zeros(0, dtype=dtype)
            for k, dtype in columns.items()}
    return rows, sources
