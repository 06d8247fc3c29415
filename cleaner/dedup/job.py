"""What every step of the sharded deduplication shares: the job's small arguments, the
shape of a task's paragraphs, and reading any paragraph by its number (gid) from its chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from cleaner import storage
from cleaner.dedup.arrays import MappedArray, RangedArray, open_array
from cleaner.dedup.columns import run_indexes
from cleaner.dedup.decisions import Decisions
from cleaner.dedup.prior import CHUNK_ROW, CHUNKS, Prior, chunk_dir
from cleaner.dedup.records import DedupBatch, join_batches
from cleaner.dedup.resolve import BUCKET_PAIRS_CAP
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.shuffle import load
from cleaner.dedup.tables import save_table

# Every grouping step cuts its keys into 2**bits hash ranges, one call each: about
# RANGE_BYTES of phase-1 dedup batches per range (as much as a dedup task, so both kinds of
# call hold about as much; fewer ranges also mean fewer calls and tables per incremental run),
# at most 2**MAX_BITS ranges. A state is cut into at least 2**STATE_BITS (it grows), and keeps
# the number it was created with.
RANGE_BYTES = 64 << 20
MAX_BITS = 16
# A dedup task is a run of consecutive phase-1 tasks with about TASK_BYTES of dedup batches
# (one phase-1 task when larger): a step reads a slice of every source's file per destination,
# so fewer, larger sources keep those reads (sources x ranges) in bounds at terabytes, while a
# task's call still holds a few hundred MB. A small run is cut into about TASK_SPREAD dedup
# tasks instead, so its per-task steps still run in parallel (one call per dedup task).
TASK_BYTES = 64 << 20
TASK_SPREAD = 16
STATE_BITS = 6
CC_FEWER_BITS = 3  # the components steps cut their nodes into 2**(bits - CC_FEWER_BITS) ranges
# Candidate pairs whose exact Jaccard is computed in one call (see verify, decide).
PAIR_BATCH = 4096
PARA_ROW = np.dtype([("doc", "<i8"), ("first", "<i8"), ("last", "<i8"), ("start", "<i8"), ("end", "<i8"),
                     ("exact", "<u8"), ("at", "<i8"), ("count", "<i8")])


@dataclass(frozen=True)
class Job:
    """The small arguments every step shares: where things are, the settings, the numbering."""

    # Phase 1's batch of a task, and where its decisions go (by phase-1 task number): the
    # pipeline's spill files. Module-level functions (or partials of them), so a job pickles.
    read_batch: Callable[[int], DedupBatch | None]
    write_decisions: Callable[[int, Decisions], None]
    scratch: str  # this run's intermediate files
    out: str  # this run's chunks and tables: the state's new run, or inside scratch
    tasks: tuple[range, ...]  # each dedup task's phase-1 task numbers, in input order
    settings: DedupSettings
    prior: Prior = field(default_factory=Prior)
    # With a state: write the tables a later run reads, and sync this run's files to disk as
    # they are written (the state's commit then syncs only its index).
    keep_tables: bool = False
    bits: int = 0
    cap: int = BUCKET_PAIRS_CAP
    para_base: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # first gid of each task
    doc_base: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    paragraphs_end: int = 0  # first gid after this run's
    documents_end: int = 0

    @property
    def cc_bits(self) -> int:
        """Ranges of the connected-components steps: the graph has an edge for each duplicate,
        far fewer than paragraphs, and each round sends every range's edges to every range."""
        return max(0, self.bits - CC_FEWER_BITS)

    @property
    def n_prior(self) -> int:
        return self.prior.paragraphs

    def chunk(self, task: int) -> str:
        return chunk_dir(self.out, task)

    def members(self, task: int) -> list[DedupBatch | None]:
        """The batches of the dedup task's phase-1 tasks."""
        return [self.read_batch(member) for member in self.tasks[task]]

    def batch(self, task: int) -> DedupBatch | None:
        return join_batches(self.members(task))

    def owner(self, gids: np.ndarray) -> np.ndarray:
        """The task (of this run) each of this run's paragraphs belongs to."""
        return np.searchsorted(self.para_base, gids, side="right") - 1

    def table(self, kind: str, part: int, rows: np.ndarray) -> None:
        if self.keep_tables and len(rows):
            save_table(storage.join(self.out, "tables", kind, f"{part:05d}"), rows, durable=True)

    def chunk_rows(self) -> np.ndarray:
        """This run's chunks (CHUNK_ROW), as the run's chunks.npy lists them: row k is `chunk(k)`."""
        return rows_of(CHUNK_ROW, gid=self.para_base, paragraphs=np.diff(np.r_[self.para_base, self.paragraphs_end]),
                       doc=self.doc_base, documents=np.diff(np.r_[self.doc_base, self.documents_end]))


def range_bits(batch_bytes: int, least: int = 0) -> int:
    """How many bits of hash cut the keys of batches of this many bytes into ranges."""
    bits = 0
    while bits < MAX_BITS and batch_bytes > RANGE_BYTES << bits:
        bits += 1
    return max(bits, least)


def group_tasks(sizes: list[int], target: int | None = None, first: int = 0) -> list[range]:
    """Dedup tasks for phase-1 tasks numbered first, first + 1, ... with dedup batches of these
    sizes: runs of consecutive tasks of up to `target` bytes (a larger task alone). The default
    target is TASK_BYTES, or a TASK_SPREAD-th of the run when that is smaller. It depends on
    the input alone, never on the workers, so the state's chunks are the same for any number."""
    target = min(TASK_BYTES, -(-sum(sizes) // TASK_SPREAD)) if target is None else target
    groups: list[range] = []
    start, total = first, 0
    for task, size in enumerate(sizes, start=first):
        if task > start and total + size > target:
            groups.append(range(start, task))
            start, total = task, 0
        total += size
    if sizes:
        groups.append(range(start, first + len(sizes)))
    return groups


def id_hashes(doc_ids: list[str]) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(d.encode(), digest_size=8).digest(), "little") for d in doc_ids],
                    dtype=np.uint64)


class Paragraphs:
    """Every paragraph's chunk row, shingles and document, read by gid from the chunk that
    holds it (an earlier run's or one of this run's).

    A number (gid, document ordinal) is found in two steps: the run, from the runs' first
    numbers (`Prior`), then the chunk, from that run's chunk list (its chunks.npy, read once
    per object and run when first needed; this run's from the job). Rows and shingles are
    read by position (`arrays.py`): locally through a memory map that lives for one read (the
    pages a read touches count in the process's resident memory only while mapped), in a
    store by ranged reads, so a step that reads from every chunk of a large state stays as
    small as one batch of pairs.
    """

    def __init__(self, job: Job) -> None:
        self._job = job
        self._runs = [run.path for run in job.prior.runs] + [job.out]
        self._first = {"gid": np.array([run.gid for run in job.prior.runs] + [job.n_prior], dtype=np.int64),
                       "doc": np.array([run.doc for run in job.prior.runs] + [job.prior.documents], dtype=np.int64)}
        self._chunks: dict[int, np.ndarray] = {}
        self._arrays: dict[tuple[int, int, str], MappedArray | RangedArray] = {}

    def _chunk_rows(self, run: int) -> np.ndarray:
        if run not in self._chunks:
            self._chunks[run] = self._job.chunk_rows() if run == len(self._runs) - 1 else \
                np.array(open_array(storage.join(self._runs[run], CHUNKS)).whole())
        return self._chunks[run]

    def _owners(self, numbers: np.ndarray, column: str) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """For each chunk holding some of these numbers (paragraphs by "gid", documents by
        "doc"): its run, its number in the run, its CHUNK_ROW, and which of the numbers it holds."""
        runs = np.searchsorted(self._first[column], numbers, side="right") - 1
        for run in np.unique(runs).tolist():
            in_run = np.flatnonzero(runs == run)
            rows = self._chunk_rows(run)
            chunks = np.searchsorted(rows[column], numbers[in_run], side="right") - 1
            for chunk in np.unique(chunks).tolist():
                yield run, chunk, rows[chunk], in_run[chunks == chunk]

    def _array(self, run: int, chunk: int, name: str) -> MappedArray | RangedArray:
        """A chunk's file, opened once per step (a store's file header is read once)."""
        if (run, chunk, name) not in self._arrays:
            self._arrays[run, chunk, name] = open_array(storage.join(chunk_dir(self._runs[run], chunk), name))
        return self._arrays[run, chunk, name]

    def rows(self, gids: np.ndarray) -> np.ndarray:
        """PARA_ROW of each paragraph, its "doc" a document number and "at" where its
        shingles start in its chunk."""
        out = np.zeros(len(gids), dtype=PARA_ROW)
        for run, chunk, row, picked in self._owners(gids, "gid"):
            out[picked] = self._array(run, chunk, "para.npy").take(gids[picked] - row["gid"])
            out["doc"][picked] += row["doc"]
        return out

    def sets(self, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shingle sets of these long paragraphs, back to back, and where each one starts."""
        rows = self.rows(gids)
        bounds = np.zeros(len(gids) + 1, dtype=np.int64)
        np.cumsum(rows["count"], out=bounds[1:])
        values = np.zeros(int(bounds[-1]), dtype=np.uint32)
        for run, chunk, _, picked in self._owners(gids, "gid"):
            counts = rows["count"][picked]
            shingles = self._array(run, chunk, "shingles.npy").take(run_indexes(rows["at"][picked], counts))
            values[run_indexes(bounds[picked], counts)] = shingles
        return values, bounds

    def documents(self, ordinals: np.ndarray) -> list[tuple[str, str]]:
        """(id, path) of each document."""
        out: list[tuple[str, str]] = [("", "")] * len(ordinals)
        for run, chunk, row, picked in self._owners(ordinals, "doc"):
            ids, paths = load(chunk_dir(self._runs[run], chunk), "docs.pkl")
            for at in picked.tolist():
                local = int(ordinals[at] - row["doc"])
                out[at] = (ids[local], paths[local])
        return out


def pair_batches(pairs: np.ndarray, paragraphs: Paragraphs) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """`pair_jaccard` arguments for PAIR_BATCH pairs at a time; each set read once per batch."""
    for begin in range(0, len(pairs), PAIR_BATCH):
        batch = pairs[begin:begin + PAIR_BATCH]
        unique, where = np.unique(batch, return_inverse=True)
        where = where.reshape(batch.shape)
        values, bounds = paragraphs.sets(unique)
        yield values, bounds, where[:, 0], where[:, 1]


@dataclass(frozen=True)
class Shape:
    """What a task's paragraphs are, derived from its batch alone."""

    owner: np.ndarray  # document of each paragraph, within the task
    chars: np.ndarray
    short: np.ndarray  # a heading, list item or table row: only recurrence and step 3 judge it
    active: np.ndarray  # clustered: long and with text
    long: np.ndarray  # has a shingle set (>= min_shingles shingles)

    @classmethod
    def of(cls, batch: DedupBatch, settings: DedupSettings) -> Shape:
        fp = batch.fingerprint
        chars = batch.refs[:, 4] - batch.refs[:, 3]
        short = (fp.words > 0) & (fp.words <= settings.recurring_max_words) & (chars <= settings.short_max_chars)
        owner = np.repeat(np.arange(len(fp.counts)), fp.counts)
        return cls(owner, chars, short, (fp.words > 0) & ~short, fp.sizes > 0)


def rows_of(dtype: np.dtype, **columns: np.ndarray) -> np.ndarray:
    out = np.zeros(len(next(iter(columns.values()))), dtype=dtype)
    for name, values in columns.items():
        out[name] = values
    return out


def scatter(size: int, rows: dict[str, np.ndarray], name: str, fill: int | bool) -> np.ndarray:
    out = np.full(size, fill, dtype=rows[name].dtype)
    out[rows["local"]] = rows[name]
    return out
