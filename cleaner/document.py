"""The data every stage shares: a document as read, its lines, and the decisions made about them.

A reader produces a `Document` and never changes it. Stages only add `Claim`s (why a line is
removed) to a `Cleaned` record, so the source text stays the single point of truth and the
output can always be rebuilt from it: kept spans plus removed spans cover the source exactly
once, in order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields
from functools import partial
from itertools import accumulate
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_Class = TypeVar("_Class", bound=type)


def pickled_by_fields(cls: _Class) -> _Class:
    """Class decorator: pickle a dataclass as its constructor and field values.

    Phase 1 spills every document, claim and source it made (see cleaner.spill), and the
    default for slotted dataclasses calls `dataclasses.fields` once per object, each way.
    Put above `@dataclass`, so it sees the final (slotted) class.
    """
    values = attrgetter(*(f.name for f in fields(cls)))

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign, assignment]
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Source:
    """Where a document came from, precise enough to find the bytes again."""

    path: str  # posix path relative to the input root
    root: str  # the input root as the user gave it
    sha256: str  # of the input file's bytes
    size: int  # bytes of the input file
    format: str  # txt, html, jsonl, parquet
    record: int | None = None  # record index inside a multi-document file
    url: str | None = None
    encoding: str | None = None  # decoding used for byte inputs

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "format": self.format,
        }
        if self.record is not None:
            out["record"] = self.record
        if self.url is not None:
            out["url"] = self.url
        if self.encoding is not None:
            out["encoding"] = self.encoding
        return out


def document_id(source: Source) -> str:
    """Stable id: the same input bytes at the same place always get the same id.

    The corpus name and path are part of the digest so that two copies of one file stay
    distinguishable (the second is then removed as a duplicate, pointing at the first).
    """
    key = f"{source.sha256}\0{source.root}/{source.path}\0{'' if source.record is None else source.record}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    source: Source
    meta: dict[str, Any] = field(default_factory=dict)  # reader facts: title, date, extra fields


class Line(NamedTuple):
    """One source line; `end` includes the line break, `content_end` excludes it.

    A named tuple rather than a dataclass: every document is split into lines twice per run
    (phase 1 and the write phase), and tuples are created at C speed.
    """

    number: int  # 1-based, as editors show it
    start: int
    content_end: int
    end: int
    text: str  # without the line break

    @property
    def blank(self) -> bool:
        return not self.text.strip()


# Line(*fields) without the named tuple's Python-level __new__: a C call per line.
_new_line = partial(tuple.__new__, Line)


def segment(text: str) -> list[Line]:
    """Split text into lines on \\n, \\r\\n or \\r, keeping exact character offsets."""
    if "\r" not in text:  # the common case, split at C speed
        parts = text.split("\n")
        if not parts[-1]:
            parts.pop()  # text ends with a line break (or is empty): no line after it
        widths = [len(part) + 1 for part in parts]  # each with its "\n"
        starts = list(accumulate(widths, initial=0))
        ends = [start + width - 1 for start, width in zip(starts, widths)]
        breaks = starts[1:]  # the next line's start, but the last line may lack its "\n"
        if breaks and breaks[-1] > len(text):
            breaks[-1] = len(text)
        return list(map(_new_line, zip(range(1, len(parts) + 1), starts, ends, breaks, parts)))
    lines: list[Line] = []
    start = 0
    number = 1
    for match in _LINE_BREAK.finditer(text):
        lines.append(Line(number, start, match.start(), match.end(), text[start : match.start()]))
        start = match.end()
        number += 1
    if start < len(text):
        lines.append(Line(number, start, len(text), len(text), text[start:]))
    return lines


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Claim:
    """Why a line is removed: the rule or signal, its category, and optional evidence."""

    rule: str
    category: str
    detail: dict[str, Any] | None = None


class Span(NamedTuple):
    """A run of consecutive source lines with one verdict (a named tuple, like Line)."""

    first_line: int
    last_line: int
    start: int
    end: int
    claim: Claim | None  # None: kept

    def to_json(self, text: str) -> dict[str, Any]:
        out: dict[str, Any] = {"lines": [self.first_line, self.last_line], "chars": [self.start, self.end]}
        if self.claim is not None:
            out["rule"] = self.claim.rule
            out["category"] = self.claim.category
            out["text"] = text[self.start : self.end]
            if self.claim.detail:
                out.update(self.claim.detail)
        return out


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a whole document was dropped; it still goes to the rejected output."""

    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Cleaned:
    """A document with every decision the pipeline made about it."""

    document: Document
    lines: list[Line]
    claims: list[Claim | None]  # parallel to lines; None means kept
    extracted: dict[str, list[str]] = field(default_factory=dict)
    lang: str = "und"
    lang_score: float = 0.0
    rejection: Rejection | None = None
    rule_timeouts: dict[str, int] = field(default_factory=dict)  # rules whose regex hit its time limit

    @classmethod
    def start(cls, document: Document) -> Cleaned:
        lines = segment(document.text)
        return cls(document, lines, [None] * len(lines))

    def claim(self, index: int, claim: Claim) -> bool:
        """Claim a line for removal unless an earlier stage already did; first claim wins."""
        if self.claims[index] is None:
            self.claims[index] = claim
            return True
        return False

    def extract(self, key: str, value: str) -> None:
        values = self.extracted.setdefault(key, [])
        if value not in values:
            values.append(value)

    def verdicts(self) -> list[Claim | None]:
        """Line verdicts with blank lines resolved, so the clean text has tidy paragraph breaks.

        A blank run after a removed line goes with that removal; a blank run before a removed
        line is kept only if kept text follows later (it separates two kept paragraphs);
        leading blanks before a removal go with it. All other blank lines are kept.
        """
        verdicts = list(self.claims)
        lines = self.lines
        n = len(lines)
        kept_after = [False] * (n + 1)
        for i in range(n - 1, -1, -1):
            kept_after[i] = kept_after[i + 1] or (not lines[i].blank and verdicts[i] is None)
        i = 0
        while i < n:
            if not lines[i].blank or verdicts[i] is not None:
                i += 1
                continue
            j = i
            while j < n and lines[j].blank and verdicts[j] is None:
                j += 1
            before = verdicts[i - 1] if i > 0 else None
            after = verdicts[j] if j < n else None
            if before is not None:
                fill: Claim | None = before
            elif after is not None and (i == 0 or not kept_after[j]):
                fill = after
            else:
                fill = None
            for k in range(i, j):
                verdicts[k] = fill
            i = j
        return verdicts

    def spans(self) -> list[Span]:
        """Merge consecutive lines with the same verdict into spans covering the whole source."""
        spans: list[Span] = []
        lines, verdicts = self.lines, self.verdicts()
        first = 0  # where the current run of lines with one verdict starts
        for i in range(1, len(lines) + 1):
            # Rules share one Claim object among their lines: identity settles most comparisons.
            if i < len(lines) and lines[i].start == lines[i - 1].end and (
                    verdicts[i] is verdicts[first] or verdicts[i] == verdicts[first]):
                continue
            spans.append(Span(lines[first].number, lines[i - 1].number, lines[first].start, lines[i - 1].end,
                              verdicts[first]))
            first = i
        return spans

    def clean_text(self, spans: list[Span] | None = None) -> str:
        text = self.document.text
        return "".join(text[s.start : s.end] for s in (self.spans() if spans is None else spans) if s.claim is None)

    def kept_lines(self) -> list[Line]:
        return [line for line, claim in zip(self.lines, self.claims) if claim is None and not line.blank]
