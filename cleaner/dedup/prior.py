"""What earlier runs of a `--state` left for this run to deduplicate against, as workers read it.

A committed run holds sorted tables per key range (`tables.py`) and one chunk per dedup task
(its paragraphs' places, exact hashes and shingles, its documents' ids and paths), listed in
the run's `chunks.npy` (CHUNK_ROW; chunk k is the directory `chunk_dir(run, k)`). `Prior`
names the runs: a location and two numbers per run, never a chunk or a row, so it travels to
every worker with the step's other small arguments however many tasks the history holds.
Each question a step asks (the earliest paragraph of these texts, the document counts of
these lines, the bucket members of these band hashes, the labels of these paragraphs) reads
only the rows for the keys asked about; a paragraph is found through its run's chunk list
(see `job.Paragraphs`). Locations are local paths or URLs (`cleaner.storage`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaner import storage
from cleaner.dedup.columns import distinct
from cleaner.dedup.tables import find

# Rows of the tables, one file per kind and key range: see `sharded.py` for what each holds.
EXACT_ROW = np.dtype([("key", "<u8"), ("gid", "<i8"), ("doc", "<i8"), ("long", "?")])
COUNT_ROW = np.dtype([("key", "<u8"), ("documents", "<i8")])
BAND_ROW = np.dtype([("key", "<u8"), ("band", "<i1"), ("gid", "<i8")])
NODE_ROW = np.dtype([("key", "<i8"), ("label", "<i8"), ("size", "<i8")])
ID_ROW = np.dtype([("key", "<u8"), ("doc", "<i8")])
# A run's chunks.npy: chunk k's first paragraph and document, and how many it holds.
CHUNK_ROW = np.dtype([("gid", "<i8"), ("paragraphs", "<i8"), ("doc", "<i8"), ("documents", "<i8")])
CHUNKS = "chunks.npy"


def chunk_dir(run: str, k: int) -> str:
    """Where a run keeps chunk k's files."""
    return storage.join(run, "chunks", f"{k:08d}")


@dataclass(frozen=True, slots=True)
class PriorRun:
    """One committed run: its directory, and the first paragraph and document it numbered."""

    path: str
    gid: int
    doc: int


@dataclass(frozen=True)
class Prior:
    """The committed runs, oldest first, the directories holding tables, and how many
    paragraphs and documents the runs numbered (this run numbers on from there)."""

    tables: tuple[str, ...] = ()
    runs: tuple[PriorRun, ...] = ()
    paragraphs: int = 0
    documents: int = 0

    def _find(self, kind: str, part: int, queries: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        found = [find(storage.join(run, kind, f"{part:05d}"), queries, dtype) for run in self.tables]
        if not found:
            return np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64)
        return np.concatenate([rows for rows, _ in found]), np.concatenate([at for _, at in found])

    def exact(self, part: int, keys: np.ndarray) -> np.ndarray:
        """For each key (sorted, distinct), its earliest paragraph in earlier runs (EXACT_ROW;
        gid -1 where none): only the run that saw a text first lists it."""
        rows, at = self._find("exact", part, keys, EXACT_ROW)
        out = np.zeros(len(keys), dtype=EXACT_ROW)
        out["gid"] = -1
        out[at] = rows
        return out

    def counts(self, kind: str, part: int, keys: np.ndarray) -> np.ndarray:
        """For each key (sorted, distinct), the documents earlier runs counted it in: every run
        counts its own documents, so the total is the sum."""
        rows, at = self._find(kind, part, keys, COUNT_ROW)
        return np.bincount(at, weights=rows["documents"], minlength=len(keys)).astype(np.int64)

    def band_members(self, part: int, keys: np.ndarray, cap: int) -> np.ndarray:
        """BAND_ROW rows of earlier runs for these band hashes (any order, repeated): of each
        (band, hash) bucket of each run only its last `cap` members, the only ones a new
        paragraph can be paired with (see `band_pairs`)."""
        found = []
        keys = distinct(keys) if self.tables else keys
        for run in self.tables:
            rows, _ = find(storage.join(run, "bands", f"{part:05d}"), keys, BAND_ROW)  # sorted by key, band, gid
            if len(rows):
                bucket = np.r_[True, (rows["key"][1:] != rows["key"][:-1]) | (rows["band"][1:] != rows["band"][:-1])]
                starts = np.flatnonzero(bucket)
                ends = np.r_[starts[1:], len(rows)]
                end_of = np.repeat(ends, ends - starts)
                found.append(rows[end_of - np.arange(len(rows)) <= cap])
        return np.concatenate(found) if found else np.zeros(0, dtype=BAND_ROW)

    def labels(self, part: int, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each paragraph (sorted, distinct) the cluster label the latest run gave it and,
        for a cluster's label, the cluster's size. Labels only ever go down and sizes up, so
        the smallest label and the largest size across runs are the latest; a paragraph no
        run listed is alone in its cluster."""
        rows, at = self._find("nodes", part, gids, NODE_ROW)
        label = gids.copy()
        size = np.ones(len(gids), dtype=np.int64)
        np.minimum.at(label, at, rows["label"])
        np.maximum.at(size, at, rows["size"])
        return label, size

    def has_ids(self, part: int, keys: np.ndarray) -> np.ndarray:
        """Which document-id hashes (sorted, distinct) an earlier run holds."""
        _, at = self._find("ids", part, keys, ID_ROW)
        seen = np.zeros(len(keys), dtype=bool)
        seen[at] = True
        return seen
