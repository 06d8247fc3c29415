"""Incremental dedup state: a directory of appended runs, committed by one small index.

Layout (format "cleaner-dedup-state", version 3):

    index.json                 format, version, settings, hash-range bits, the committed runs
                               (name, paragraphs, documents, chunks, input sha256s) and which
                               of them hold tables
    runs/<name>/chunks/<task>/ para.npy, shingles.npy, docs.pkl: one phase-1 task's paragraphs
    runs/<name>/tables/<kind>/<range>.npy (+ .key.npy): sorted tables, see `prior.py`

A run writes its chunks and tables into a fresh `runs/<name>/` while it deduplicates; it
becomes part of the state only when `commit` replaces index.json (written to a temporary file,
synced, renamed: the commit point). A kill -9 anywhere before leaves the old index, which does
not list the new run: the next run removes such orphans. Nothing a committed index lists is
ever changed or removed before a later index stops listing it.

A run reads only the keys it looks up (never the history into the driver) and appends one
run. Compaction: once more than COMPACT_AFTER runs hold tables, a run merges every table
into its own, in workers, one call per kind and range, before it commits; the older runs'
tables go after the commit (their chunks stay: paragraphs are never renumbered).

Single-file states of earlier versions (dedup-state.npz) are refused with a one-line error:
rebuild the state by running over the corpus again with a fresh --state directory.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cleaner import storage
from cleaner.dedup.components import Spread
from cleaner.dedup.job import Job
from cleaner.dedup.prior import BAND_ROW, COUNT_ROW, EXACT_ROW, ID_ROW, NODE_ROW, Chunk, Prior
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.tables import read_table, save_table
from cleaner.files import fsync_dir, fsync_tree

FORMAT = "cleaner-dedup-state"
VERSION = 3
INDEX = "index.json"
OLD_FILE = "dedup-state.npz"  # versions 1 and 2: one file, loaded whole
# Runs holding their own tables before a run merges them all into its own.
COMPACT_AFTER = 8
_TABLES = {"exact": EXACT_ROW, "site": COUNT_ROW, "text": COUNT_ROW, "bands": BAND_ROW, "nodes": NODE_ROW,
           "ids": ID_ROW}


class StateError(Exception):
    """A dedup state that cannot be used: missing, corrupt, foreign or built with other settings."""


@dataclass
class DedupState:
    """The committed runs of a state directory (an empty one for a new directory)."""

    directory: Path
    settings: DedupSettings
    index: dict[str, Any]

    @classmethod
    def open(cls, directory: str | os.PathLike[str], settings: DedupSettings) -> DedupState:
        """The state in `directory`, refused unless intact and built with these settings."""
        directory = Path(directory)
        path = directory / INDEX
        if (directory / OLD_FILE).is_file() and not path.is_file():
            raise StateError(f"{directory / OLD_FILE}: a dedup state of an earlier cleaner (one file, version 2); this "
                             "cleaner keeps --state as appended runs: rebuild it by cleaning the corpus again with a "
                             "fresh --state directory")
        if not path.is_file():
            return cls(directory, settings, {"format": FORMAT, "version": VERSION, "settings": settings.to_json(),
                                             "bits": None, "runs": [], "tables": []})
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise StateError(f"{path}: corrupt dedup state ({type(err).__name__}: {err})") from err
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise StateError(f"{path}: not a cleaner dedup state")
        if index.get("version") != VERSION:
            raise StateError(f"{path}: dedup state version {index.get('version')!r}, this cleaner reads {VERSION}")
        if index.get("settings") != settings.to_json():
            stored = index.get("settings") or {}
            changed = sorted(k for k, v in settings.to_json().items() if stored.get(k) != v)
            raise StateError(f"{path}: dedup state was built with other settings ({', '.join(changed)}); "
                             "use the same settings or a fresh state directory")
        if not isinstance(index.get("bits"), int) or not isinstance(index.get("runs"), list):
            raise StateError(f"{path}: corrupt dedup state (no hash ranges or runs)")
        state = cls(directory, settings, index)
        missing = [name for name in state.index["runs"] if not (directory / "runs" / name["name"]).is_dir()]
        if missing:
            raise StateError(f"{path}: corrupt dedup state (run {missing[0]['name']} is missing)")
        return state

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
        return Prior(
            tables=tuple(str(self.directory / "runs" / name / "tables") for name in self.index["tables"]),
            chunks=tuple(Chunk(gid, paragraphs, doc, documents, str(self.directory / "runs" / run["name"] / path))
                         for run in runs for gid, paragraphs, doc, documents, path in run["chunks"]),
            paragraphs=sum(run["paragraphs"] for run in runs),
            documents=sum(run["documents"] for run in runs),
        )

    def new_run(self) -> Path:
        """A fresh directory for this run's files; orphans of runs that never committed go first."""
        self.collect()
        names = [run["name"] for run in self.index["runs"]]
        number = int(names[-1]) + 1 if names else 1
        run = self.directory / "runs" / f"{number:08d}"
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        return run

    def collect(self) -> None:
        """Remove what no committed run lists: orphan runs, tables merged away, temporary files."""
        runs = self.directory / "runs"
        listed = {run["name"] for run in self.index["runs"]}
        for entry in sorted(runs.iterdir()) if runs.is_dir() else []:
            if entry.name not in listed:
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name not in self.index["tables"]:
                shutil.rmtree(entry / "tables", ignore_errors=True)
        for entry in self.directory.glob(f"{INDEX}.tmp-*"):  # storage.write_atomically's
            entry.unlink(missing_ok=True)

    def compact(self, job: Job, spread: Spread) -> list[str]:
        """The tables the next index lists: this run's alone, or once more than COMPACT_AFTER
        runs would hold tables, everything merged into this run's (one call per kind and range)."""
        name = Path(job.out).name
        holders = [*self.index["tables"], name]
        if len(holders) <= COMPACT_AFTER:
            return holders
        sources = tuple(str(self.directory / "runs" / holder / "tables") for holder in holders)
        calls = ((kind, part) for kind in _TABLES for part in range(1 << job.bits))
        list(spread(merge_tables, calls, (sources, f"{job.out}/tables", job.cap)))
        return [name]

    def commit(self, job: Job, tables: list[str], inputs: set[str]) -> None:
        """Make this run part of the state: the new index replaces the old one atomically."""
        run = {"name": Path(job.out).name, "paragraphs": job.paragraphs_end - job.n_prior,
               "documents": job.documents_end - job.prior.documents,
               "chunks": [[c.gid, c.paragraphs, c.doc, c.documents, str(Path(c.path).relative_to(job.out))]
                          for c in job.chunks()],
               "inputs": sorted(inputs - self.inputs)}
        index = {**self.index, "bits": job.bits, "runs": [*self.index["runs"], run], "tables": tables}
        fsync_tree(Path(job.out))  # the run's files reach the disk before the index that lists them
        storage.write_atomically(str(self.directory / INDEX), json.dumps(index, sort_keys=True).encode(), durable=True)
        fsync_dir(self.directory)
        self.index = index
        self.collect()


def merge_tables(sources: tuple[str, ...], target: str, cap: int, kind: str, part: int) -> None:
    """One kind and range of every table-holding run, merged into one sorted table."""
    dtype = _TABLES[kind]
    rows = np.concatenate([read_table(os.path.join(source, kind, f"{part:05d}"), dtype) for source in sources])
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
        save_table(os.path.join(target, kind, f"{part:05d}"), merged)
