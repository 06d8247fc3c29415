"""Phase-1 results in the work location: files per input task, written atomically by the worker
that cleaned the task, read back by whichever worker needs them next.

Spilling keeps memory flat (no process holds more than one task's documents, never the corpus)
and makes finished work survive an interrupted run, which `--resume` picks up again. The work
location is a local directory or, on a cluster whose workers do not share a disk, an fsspec URL
(see `cleaner.storage`). The files are our own, short-lived and never shared, so pickle is the
simple, fast choice.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

from cleaner import storage
from cleaner.dedup.decisions import Decisions
from cleaner.dedup.records import DedupBatch
from cleaner.document import Claim, Cleaned, Document, Rejection, pickled_by_fields, segment
from cleaner.filters.stage import StageStats
from cleaner.storage import Location


@pickled_by_fields
@dataclass(slots=True)
class DocResult:
    """Everything phase 1 decided about one document, without the recomputable line table."""

    document: Document
    claims: dict[int, Claim]
    extracted: dict[str, list[str]]
    lang: str
    lang_score: float
    rejection: Rejection | None = None
    rule_timeouts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_cleaned(cls, cleaned: Cleaned) -> DocResult:
        claims = {i: c for i, c in enumerate(cleaned.claims) if c is not None}
        return cls(cleaned.document, claims, cleaned.extracted, cleaned.lang, cleaned.lang_score,
                   cleaned.rejection, cleaned.rule_timeouts)

    def cleaned(self) -> Cleaned:
        lines = segment(self.document.text)
        claims: list[Claim | None] = [None] * len(lines)
        for index, claim in self.claims.items():
            claims[index] = claim
        return Cleaned(self.document, lines, claims, self.extracted, self.lang, self.lang_score, self.rejection,
                       self.rule_timeouts)


@pickled_by_fields
@dataclass(slots=True)
class InputReport:
    """One input file as the manifest lists it: its hash, and what went wrong or was skipped."""

    root: str
    path: str
    sha256: str | None = None
    size: int | None = None
    errors: list[str] = field(default_factory=list)
    unchanged: bool = False  # seen by an earlier run with the same --state, so not read again

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"root": self.root, "path": self.path}
        if self.sha256 is not None:
            out.update(sha256=self.sha256, size=self.size)
        if self.unchanged:
            out["unchanged"] = True
        if self.errors:
            out["errors"] = self.errors
        return out


@pickled_by_fields
@dataclass(slots=True)
class TaskResult:
    """What one input task produced: its documents, its inputs as reported, and dedup fingerprints."""

    index: int
    documents: list[DocResult] = field(default_factory=list)
    inputs: list[InputReport] = field(default_factory=list)
    dedup: DedupBatch | None = None
    bytes_read: int = 0
    stages: dict[str, StageStats] = field(default_factory=dict)  # what each stage did in this task


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """What the driver keeps of a cleaned task: counts only, O(1) per task.

    `documents` and `paragraphs` are the task's entries in its dedup batch (kept documents and
    their dedup paragraphs), so the driver can number every task's paragraphs and documents
    globally in input order without reading the batches; `dedup_bytes`, the size of the
    batch's arrays, sizes the deduplication's hash ranges and tasks without a request per file.
    """

    index: int
    documents: int
    paragraphs: int
    bytes_read: int
    stages: dict[str, StageStats]
    dedup_bytes: int = 0

    @classmethod
    def of(cls, result: TaskResult) -> TaskSummary:
        kept = sum(doc.rejection is None for doc in result.documents)
        batch = result.dedup
        paragraphs = len(batch.refs) if batch is not None else 0
        arrays = (batch.refs, batch.boilerplate_like, *(getattr(batch.fingerprint, name)
                                                       for name in type(batch.fingerprint).__slots__)) if batch else ()
        return cls(result.index, kept, paragraphs, result.bytes_read, result.stages,
                   sum(array.nbytes for array in arrays))


def spill_path(directory: Location, index: int, part: str) -> str:
    return storage.join(directory, f"{index:08d}.{part}.pkl")


def write_result(directory: Location, result: TaskResult, summary: TaskSummary) -> None:
    """Spill a task's documents and its dedup entries apart (deduplication reads only the small
    dedup part), then its summary: the summary, written last, marks the task finished."""
    dedup, result.dedup = result.dedup, None
    _dump(spill_path(directory, result.index, "dedup"), dedup)
    _dump(spill_path(directory, result.index, "docs"), result)
    _dump(spill_path(directory, result.index, "summary"), summary)


def _dump(target: str, value: Any, durable: bool = True) -> None:
    # durable: a finished task must survive a crash, for --resume
    with storage.open_atomically(target, durable=durable) as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: str) -> Any:
    with storage.open_read(path) as handle:
        return pickle.load(handle)


def read_summary(directory: Location, index: int) -> TaskSummary:
    summary: TaskSummary = _load(spill_path(directory, index, "summary"))
    return summary


def read_result(directory: Location, index: int) -> TaskResult:
    result: TaskResult = _load(spill_path(directory, index, "docs"))
    return result


def read_dedup(directory: Location, index: int) -> DedupBatch | None:
    batch: DedupBatch | None = _load(spill_path(directory, index, "dedup"))
    return batch


def write_decisions(directory: Location, index: int, decisions: Decisions | None) -> None:
    """The dedup decisions for one task's documents (None without dedup), where that task's
    writer reads them. Not synced: a resumed run resolves duplicates again anyway."""
    _dump(spill_path(directory, index, "decisions"), decisions, durable=False)


def read_decisions(directory: Location, index: int) -> Decisions | None:
    decisions: Decisions | None = _load(spill_path(directory, index, "decisions"))
    return decisions

