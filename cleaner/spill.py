"""Phase-1 results on disk: one file per input task, written atomically, read back in order.

Spilling keeps memory flat (phase 2 holds one task's documents at a time, never the corpus)
and makes finished work survive an interrupted run, which `--resume` picks up again. The files
are our own, short-lived and never shared, so pickle is the simple, fast choice.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.document import Claim, Cleaned, Document, Rejection, segment


@dataclass(slots=True)
class DocResult:
    """Everything phase 1 decided about one document, without the recomputable line table."""

    document: Document
    claims: dict[int, Claim]
    extracted: dict[str, list[str]]
    lang: str
    lang_score: float
    rejection: Rejection | None = None
    fingerprint: Any = None  # the dedup stage's per-document fingerprint, when dedup is on
    rule_timeouts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_cleaned(cls, cleaned: Cleaned, fingerprint: Any = None) -> DocResult:
        claims = {i: c for i, c in enumerate(cleaned.claims) if c is not None}
        return cls(cleaned.document, claims, cleaned.extracted, cleaned.lang, cleaned.lang_score,
                   cleaned.rejection, fingerprint, cleaned.rule_timeouts)

    def cleaned(self) -> Cleaned:
        lines = segment(self.document.text)
        claims: list[Claim | None] = [None] * len(lines)
        for index, claim in self.claims.items():
            claims[index] = claim
        return Cleaned(self.document, lines, claims, self.extracted, self.lang, self.lang_score, self.rejection,
                       self.rule_timeouts)


@dataclass(slots=True)
class TaskResult:
    """What one input task produced: its documents and the problems met on the way."""

    index: int
    documents: list[DocResult] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line message)
    bytes_read: int = 0


def spill_path(directory: Path, index: int) -> Path:
    return directory / f"{index:08d}.pkl"


def write_result(directory: Path, result: TaskResult) -> None:
    target = spill_path(directory, result.index)
    temporary = target.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def read_result(directory: Path, index: int) -> TaskResult:
    with spill_path(directory, index).open("rb") as handle:
        result: TaskResult = pickle.load(handle)
    return result


def finished(directory: Path) -> set[int]:
    return {int(p.stem) for p in directory.glob("*.pkl")}
