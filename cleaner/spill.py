"""Phase-1 results on disk: one file per input task, written atomically, read back in order.

Spilling keeps memory flat (phase 2 holds one task's documents at a time, never the corpus)
and makes finished work survive an interrupted run, which `--resume` picks up again. The files
are our own, short-lived and never shared, so pickle is the simple, fast choice.
"""

from __future__ import annotations

import copyreg
import os
import pickle
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cleaner.dedup.decisions import Decisions
from cleaner.dedup.records import DedupBatch
from cleaner.document import Claim, Cleaned, Document, Rejection, Source, segment


def _pickled_by_fields(cls: type) -> None:
    """Pickle a dataclass as its class and field values, rebuilt by its constructor. The
    default for slotted dataclasses calls `dataclasses.fields` once per object each way, a
    cost paid for every document, claim and source spilled."""
    names = [f.name for f in fields(cls)]
    copyreg.pickle(cls, lambda obj: (cls, tuple([getattr(obj, name) for name in names])))


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


@dataclass(slots=True)
class TaskResult:
    """What one input task produced: its documents, its inputs as reported, and dedup fingerprints."""

    index: int
    documents: list[DocResult] = field(default_factory=list)
    inputs: list[InputReport] = field(default_factory=list)
    dedup: DedupBatch | None = None
    bytes_read: int = 0


def spill_path(directory: Path, index: int, part: str) -> Path:
    return directory / f"{index:08d}.{part}.pkl"


def write_result(directory: Path, result: TaskResult) -> None:
    """Spill a task's documents and its dedup entries apart: phase 2 reads the small dedup part
    of every task first, and the documents only when it writes them."""
    dedup, result.dedup = result.dedup, None
    _dump(spill_path(directory, result.index, "dedup"), dedup)
    _dump(spill_path(directory, result.index, "docs"), result)


def _dump(target: Path, value: Any, durable: bool = True) -> None:
    temporary = target.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        if durable:  # a finished task must survive a crash, for --resume
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, target)


def _load(path: Path) -> Any:
    with path.open("rb") as handle:
        return pickle.load(handle)


def read_result(directory: Path, index: int) -> TaskResult:
    result: TaskResult = _load(spill_path(directory, index, "docs"))
    return result


def read_dedup(directory: Path, index: int) -> DedupBatch | None:
    batch: DedupBatch | None = _load(spill_path(directory, index, "dedup"))
    return batch


def write_decisions(directory: Path, index: int, decisions: Decisions | None) -> None:
    """The dedup decisions for one task's documents (None without dedup), where that task's
    writer reads them. Not synced: a resumed run resolves duplicates again anyway."""
    _dump(spill_path(directory, index, "decisions"), decisions, durable=False)


def read_decisions(directory: Path, index: int) -> Decisions | None:
    decisions: Decisions | None = _load(spill_path(directory, index, "decisions"))
    return decisions


for _class in (Source, Document, Claim, Rejection, DocResult, InputReport, TaskResult, DedupBatch):
    _pickled_by_fields(_class)
