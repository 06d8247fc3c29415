"""Incremental dedup state: a location of appended runs, committed by one small index.

Layout (format "cleaner-dedup-state", version 4), at a local directory or an fsspec URL
(``s3://bucket/dedup-state``): every file is read and written where it is, through
`cleaner.storage`, by whichever worker needs it; nothing is downloaded whole.

    index.json                 format, version, settings, hash-range bits, the committed runs
                               (name, paragraphs, documents, input sha256s) and which of them
                               hold tables: no entry per task
    runs/<name>/chunks.npy     the run's chunk list (see `prior.CHUNK_ROW`)
    runs/<name>/chunks/<k>/    para.npy, shingles.npy, docs.pkl: dedup task k's paragraphs
    runs/<name>/tables/<kind>/<range>.npy (+ .key.npy, .fence.npy): sorted tables, see `tables.py`

A run's workers write its chunks and tables into a fresh `runs/<name>/` while it
deduplicates, each file synced to disk by its writer in a local directory (an object in a
store is durable once put); it becomes part of the state only when `commit` writes its
chunks.npy and then replaces index.json: locally a synced temporary file renamed over it,
in a store a single put, which is atomic. A kill -9 anywhere before leaves the old index,
which does not list the new run: the next run removes such orphans. Nothing a committed
index lists is ever changed or removed before a later index stops listing it. Object stores
have no lock, and neither does a local state: one run at a time per state.

A run reads only the keys it looks up (never the history into the driver) and appends one
run. Compaction: once more than COMPACT_AFTER runs hold tables, a run merges every table
into its own, in workers, one call per kind and range, before it commits; the older runs'
tables go after the commit (their chunks stay: paragraphs are never renumbered).

States of earlier versions are refused with a one-line error: rebuild the state by running
over the corpus again with a fresh --state directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from cleaner import storage
from cleaner.dedup.arrays import save_array
from cleaner.dedup.components import Spread
from cleaner.dedup.job import Job
from cleaner.dedup.prior import BAND_ROW, CHUNKS, COUNT_ROW, EXACT_ROW, ID_ROW, NODE_ROW, Prior, PriorRun
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.tables import read_table, save_table
from cleaner.files import OutputError

FORMAT = "cleaner-dedup-state"
VERSION = 4
INDEX = "index.json"
OLD_FILE = "dedup-state.npz"  # versions 1 and 2: one file, loaded whole
# Runs holding their own tables before a run merges them all into its own.
COMPACT_AFTER = 8
_TABLES = {"exact": EXACT_ROW, "site": COUNT_ROW, "text": COUNT_ROW, "bands": BAND_ROW, "nodes": NODE_ROW,
           "ids": ID_ROW}
_REBUILD = "rebuild it by cleaning the corpus again with a fresh --state directory"


class StateError(Exception):
    """A dedup state that cannot be used: missing, corrupt, foreign or built with other settings."""


@dataclass
class DedupState:
    """The committed runs of a state location (an empty one for a new location)."""

    location: str  # a local directory (absolute) or a URL
    settings: DedupSettings
    index: dict[str, Any]

    @classmethod
    def open(cls, location: str | os.PathLike[str], settings: DedupSettings) -> DedupState:
        """The state at `location`, refused unless intact and built with these settings."""
        try:
            here = storage.local(location)
        except ValueError as exc:  # a file:// URL of another host
            raise StateError(str(exc)) from None
        # absolute: Ray workers do not share the driver's working directory
        location = os.path.abspath(here) if here is not None else os.fspath(location).rstrip("/")
        path = storage.join(location, INDEX)
        try:
            data = storage.read_bytes(path)
        except FileNotFoundError:
            data = None
        except OSError as err:
            raise StateError(f"{path}: cannot read the dedup state ({type(err).__name__}: {err})") from err
        if data is None:
            if storage.exists(storage.join(location, OLD_FILE)):
                raise StateError(f"{storage.join(location, OLD_FILE)}: a dedup state of an earlier cleaner (one file, "
                                 f"version 2); this cleaner keeps --state as appended runs: {_REBUILD}")
            return cls(location, settings, {"format": FORMAT, "version": VERSION, "settings": settings.to_json(),
                                            "bits": None, "runs": [], "tables": []})
        try:
            index = json.loads(data)
        except ValueError as err:
            raise StateError(f"{path}: corrupt dedup state ({type(err).__name__}: {err})") from err
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise StateError(f"{path}: not a cleaner dedup state")
        if index.get("version") == 3:
            raise StateError(f"{path}: a dedup state of an earlier cleaner (version 3, whose index lists every "
                             f"chunk); this cleaner reads version {VERSION}: {_REBUILD}")
        if index.get("version") != VERSION:
            raise StateError(f"{path}: dedup state version {index.get('version')!r}, this cleaner reads {VERSION}")
        if index.get("settings") != settings.to_json():
            stored = index.get("settings") or {}
            changed = sorted(k for k, v in settings.to_json().items() if stored.get(k) != v)
            raise StateError(f"{path}: dedup state was built with other settings ({', '.join(changed)}); "
                             "use the same settings or a fresh state directory")
        if not isinstance(index.get("bits"), int) or not isinstance(index.get("runs"), list):
            raise StateError(f"{path}: corrupt dedup state (no hash ranges or runs)")
        state = cls(location, settings, index)
        missing = [run["name"] for run in index["runs"] if not storage.exists(storage.join(state.run(run["name"]),
                                                                                           CHUNKS))]
        if missing:
            raise StateError(f"{path}: corrupt dedup state (run {missing[0]} is missing)")
        return state

    def run(self, name: str) -> str:
        """The location of a run's files."""
        return storage.join(self.location, "runs", name)

    @property
    def bits(self) -> int | None:
        """The hash-range bits of the state's tables (None until a run commits)."""
        bits: int | None = self.index["bits"]
        return bits

    @property
    def inputs(self) -> set[str]:
        """sha256 of every input an earlier run read."""
        return {sha for run in self.index["runs"] for sha in run["inputs"]}

    @property
    def paragraphs(self) -> int:
        return sum(run["paragraphs"] for run in self.index["runs"])

    def prior(self) -> Prior:
        runs = self.index["runs"]
        gids = np.cumsum([0] + [run["paragraphs"] for run in runs]).tolist()
        docs = np.cumsum([0] + [run["documents"] for run in runs]).tolist()
        return Prior(tables=tuple(storage.join(self.run(name), "tables") for name in self.index["tables"]),
                     runs=tuple(PriorRun(self.run(run["name"]), gid, doc) for run, gid, doc in zip(runs, gids, docs)),
                     paragraphs=gids[-1], documents=docs[-1])

    def new_run(self) -> str:
        """A fresh location for this run's files; orphans of runs that never committed go first."""
        self.collect()
        names = [run["name"] for run in self.index["runs"]]
        run = self.run(f"{int(names[-1]) + 1 if names else 1:08d}")
        storage.make_dirs(run, durable=True)
        return run

    def collect(self) -> None:
        """Remove what no committed run lists: orphan runs, tables merged away, temporary files."""
        runs = storage.join(self.location, "runs")
        listed = {run["name"] for run in self.index["runs"]}
        for name in storage.list_dirs(runs):
            if name not in listed:
                storage.remove_tree(self.run(name))
            elif name not in self.index["tables"]:
                storage.remove_tree(storage.join(self.run(name), "tables"))
        for name in storage.list_names(self.location):
            if name.startswith(f"{INDEX}.tmp-"):  # storage.write_atomically's, locally
                storage.remove(storage.join(self.location, name))

    def compact(self, job: Job, spread: Spread) -> list[str]:
        """The tables the next index lists: this run's alone, or once more than COMPACT_AFTER
        runs would hold tables, everything merged into this run's (one call per kind and range)."""
        name = _name(job)
        holders = [*self.index["tables"], name]
        if len(holders) <= COMPACT_AFTER:
            return holders
        sources = tuple(storage.join(self.run(holder), "tables") for holder in holders)
        calls = ((kind, part) for kind in _TABLES for part in range(1 << job.bits))
        list(spread(merge_tables, calls, (sources, storage.join(job.out, "tables"), job.cap)))
        return [name]

    def commit(self, job: Job, tables: list[str], inputs: set[str]) -> None:
        """Make this run part of the state: its chunk list, then the new index replacing the old
        one atomically. The run's other files were synced by the workers that wrote them."""
        run = {"name": _name(job), "paragraphs": job.paragraphs_end - job.n_prior,
               "documents": job.documents_end - job.prior.documents, "inputs": sorted(inputs - self.inputs)}
        index = {**self.index, "bits": job.bits, "runs": [*self.index["runs"], run], "tables": tables}
        try:
            save_array(storage.join(job.out, CHUNKS), job.chunk_rows(), durable=True)
            storage.write_atomically(storage.join(self.location, INDEX), json.dumps(index, sort_keys=True).encode(),
                                     durable=True)
        except (OSError, OutputError) as exc:
            raise StateError(f"{self.location}: OUT is in place but the dedup state could not be committed; the "
                             f"previous state is left, so the next run cleans this run's inputs again: {exc}") from exc
        self.index = index
        self.collect()


def _name(job: Job) -> str:
    """The name of the run a job writes (its directory's)."""
    return job.out.rstrip("/").rsplit("/", 1)[-1]


def merge_tables(sources: tuple[str, ...], target: str, cap: int, kind: str, part: int) -> None:
    """One kind and range of every table-holding run, merged into one sorted table."""
    dtype = _TABLES[kind]
    rows = np.concatenate([read_table(storage.join(source, kind, f"{part:05d}"), dtype) for source in sources])
    if kind in ("site", "text"):
        keys, inverse = np.unique(rows["key"], return_inverse=True)
        merged = np.zeros(len(keys), dtype=dtype)
        merged["key"], merged["documents"] = keys, np.bincount(inverse, weights=rows["documents"], minlength=len(keys))
    elif kind == "nodes":
        keys, inverse = np.unique(rows["key"], return_inverse=True)
        merged = np.zeros(len(keys), dtype=dtype)
        merged["key"], merged["label"], merged["size"] = keys, keys, 1
        np.minimum.at(merged["label"], inverse, rows["label"])
        np.maximum.at(merged["size"], inverse, rows["size"])
    elif kind == "bands":
        merged = rows[np.lexsort((rows["gid"], rows["band"], rows["key"]))]
        bucket = np.r_[True, (merged["key"][1:] != merged["key"][:-1]) | (merged["band"][1:] != merged["band"][:-1])]
        starts = np.flatnonzero(bucket) if len(merged) else np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:], len(merged)]
        merged = merged[np.repeat(ends, ends - starts) - np.arange(len(merged)) <= cap]
    else:  # exact, ids: every key in one run only
        merged = rows[np.argsort(rows["key"], kind="stable")]
    if len(merged):
        save_table(storage.join(target, kind, f"{part:05d}"), merged, durable=True)
