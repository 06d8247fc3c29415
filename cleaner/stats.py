"""Run statistics: what came in, what went out, and what each rule and category removed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from cleaner.document import Cleaned, Span


@dataclass
class RunStats:
    documents_in: int = 0
    documents_out: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    chars_in: int = 0
    chars_kept: int = 0
    lines_in: int = 0
    lines_kept: int = 0
    by_rule: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    languages: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    unchanged_inputs: int = 0
    tasks_resumed: int = 0  # reported in the manifest's timings, not here: it must not change stats.json
    chars_out: int = 0  # characters of the documents written (not rejected)
    rule_timeouts: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)  # sections other stages report (dedup)

    def add(self, cleaned: Cleaned, spans: list[Span]) -> None:
        """Count one document; `spans` are its `Cleaned.spans()`, computed once by the caller."""
        self.documents_in += 1
        self.chars_in += len(cleaned.document.text)
        self.rule_timeouts.update(cleaned.rule_timeouts)
        written = cleaned.rejection is None
        if written:
            self.documents_out += 1
            self.languages[cleaned.lang] += 1
        else:
            self.rejected[cleaned.rejection.reason] += 1
        # Non-blank lines up to each line number, so a span's count is one subtraction.
        nonblank_before = list(accumulate((not line.blank for line in cleaned.lines), initial=0))
        for span in spans:
            nonblank = nonblank_before[span.last_line] - nonblank_before[span.first_line - 1]
            self.lines_in += nonblank
            if span.claim is None:
                self.chars_kept += span.end - span.start
                self.chars_out += (span.end - span.start) if written else 0
                self.lines_kept += nonblank
                continue
            rule = self.by_rule.setdefault(span.claim.rule, {"category": span.claim.category, "lines": 0, "chars": 0})
            category = self.by_category.setdefault(span.claim.category, {"lines": 0, "chars": 0})
            for bucket in (rule, category):
                bucket["lines"] += nonblank
                bucket["chars"] += span.end - span.start

    def merge(self, other: RunStats) -> None:
        """Add the counts of another part of the run (a task written in a worker process)."""
        self.documents_in += other.documents_in
        self.documents_out += other.documents_out
        self.rejected.update(other.rejected)
        self.chars_in += other.chars_in
        self.chars_kept += other.chars_kept
        self.chars_out += other.chars_out
        self.lines_in += other.lines_in
        self.lines_kept += other.lines_kept
        self.languages.update(other.languages)
        self.rule_timeouts.update(other.rule_timeouts)
        self.errors += other.errors
        self.unchanged_inputs += other.unchanged_inputs
        for mine, theirs in ((self.by_rule, other.by_rule), (self.by_category, other.by_category)):
            for key, counts in theirs.items():
                bucket = mine.setdefault(key, {**counts, "lines": 0, "chars": 0})
                bucket["lines"] += counts["lines"]
                bucket["chars"] += counts["chars"]

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": {"in": self.documents_in, "out": self.documents_out,
                          "rejected": sum(self.rejected.values()),
                          "rejected_by_reason": dict(sorted(self.rejected.items()))},
            "characters": {"in": self.chars_in, "kept": self.chars_kept, "removed": self.chars_in - self.chars_kept,
                           "out": self.chars_out},
            "lines": {"in": self.lines_in, "kept": self.lines_kept, "removed": self.lines_in - self.lines_kept},
            "removed_by_rule": dict(sorted(self.by_rule.items())),
            "removed_by_category": dict(sorted(self.by_category.items())),
            "languages": dict(sorted(self.languages.items())),
            "inputs_unchanged": self.unchanged_inputs,
            **self.extra,
            "rule_timeouts": dict(sorted(self.rule_timeouts.items())),
            "errors": self.errors,
        }
