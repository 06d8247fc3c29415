"""Dedup settings: every knob that changes which paragraphs are removed, in one frozen record.

The settings are stored with the incremental state, so a state built with other settings is
refused instead of silently mixing incompatible signatures or thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# LSH banding maths. A paragraph's signature (num_perm MinHash values) is cut into `bands`
# bands of `rows` values; two paragraphs become a candidate pair when all rows of at least one
# band agree. For a pair with Jaccard similarity s each row agrees with probability s, so
#
#     P(candidate | s) = 1 - (1 - s**rows) ** bands
#
# an S-curve whose steep part sits near (1 / bands) ** (1 / rows). Every candidate is verified
# with the exact Jaccard of the shingle sets, so false candidates cost only time while a missed
# pair is a duplicate left in the corpus: the bands are chosen for recall. We take the largest
# `rows` (fewest spurious candidates) whose bands = num_perm // rows still catch a pair sitting
# exactly at the threshold with probability >= RECALL_AT_THRESHOLD. For threshold 0.8 and 128
# permutations that is 16 bands x 8 rows:
#     s = 0.80 -> 0.947,  s = 0.85 -> 0.994,  s = 0.90 -> 0.99998,  s = 0.60 -> 0.25,
#     s = 0.50 -> 0.061 (and those are then rejected by exact verification).
# datasketch's MinHashLSH(threshold=0.8) picks 9 x 13 by balancing false positives against
# false negatives, which misses about half of the true pairs with s in 0.80..0.85.
RECALL_AT_THRESHOLD = 0.9


WITHIN_DOCUMENT = ("keep", "remove")


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that LSH banding proposes a pair with this Jaccard similarity."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def derive_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) for the threshold, chosen for recall as explained above."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= RECALL_AT_THRESHOLD:
            return bands, rows
    return num_perm, 1


@dataclass(frozen=True)
class DedupSettings:
    threshold: float = 0.8  # exact Jaccard of word n-gram shingles at or above which paragraphs are near duplicates
    ngram: int = 5  # words per shingle
    num_perm: int = 128  # MinHash permutations
    bands: int | None = None  # LSH bands; None derives them (see derive_bands)
    rows: int | None = None  # rows per band; None derives them
    # Paragraphs with fewer shingles are compared exactly only: with 5-word shingles a
    # paragraph of at most 12 words has at most 8 shingles, so one changed word moves its
    # Jaccard by more than the margin the threshold leaves. 9 lines this up with
    # recurring_max_words, so "short" means the same thing for both rules by default.
    min_shingles: int = 9
    # A line recurring in this many documents of one site (or, with a boilerplate shape, of
    # any sites) is boilerplate; DESIGN.md: 3 worked better than 5 or 10 on real dumps.
    recurring_min_docs: int = 3
    # "Short" lines: headings, list items, table rows, menu entries, bylines. A short line is
    # content in one document and boilerplate in another as often as not, so it never goes
    # through exact or near paragraph dedup (a second document holding the same heading or
    # table row says nothing about it); only recurrence and the in-document navigation copy
    # rule judge it. Short is at most recurring_max_words normalised words (12: an English line
    # of 12 words runs to about 70 characters, a headline's length) and at most
    # short_max_chars characters, so a paragraph of a script without spaces (Chinese,
    # Japanese, Thai: one "word") is short only when it is as short as a heading.
    recurring_max_words: int = 12
    short_max_chars: int = 100
    duplicate_document_fraction: float = 0.8  # share of a document's characters duplicating one earlier document
    # A long paragraph repeated inside its own document (a page printing its article twice, a
    # print version under the web one): "keep" leaves every copy, because readers and the dev
    # set's annotators count both as article text, and losing article text is the worse error
    # (lines/page: 96.8% -> 98.4% of content characters kept); "remove" drops later copies like
    # any duplicate, for training data (--preset training). Copies in other documents always go.
    within_document: str = "keep"
    seed: int = 1  # MinHash permutation seed (datasketch's default)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"dedup threshold must be in (0, 1], got {self.threshold}")
        if self.ngram < 1 or self.num_perm < 1 or self.min_shingles < 1:
            raise ValueError("dedup ngram, num_perm and min_shingles must be at least 1")
        if (self.bands is None) != (self.rows is None):
            raise ValueError("dedup bands and rows must be given together or both derived")
        if self.bands is None:
            bands, rows = derive_bands(self.threshold, self.num_perm)
            object.__setattr__(self, "bands", bands)
            object.__setattr__(self, "rows", rows)
        assert self.bands is not None and self.rows is not None
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError(f"dedup bands x rows ({self.bands} x {self.rows}) must fit in num_perm {self.num_perm}")
        if self.short_max_chars < 1:
            raise ValueError("dedup short_max_chars must be at least 1")
        if self.recurring_min_docs < 2:
            raise ValueError("dedup recurring_min_docs must be at least 2")
        if self.within_document not in WITHIN_DOCUMENT:
            raise ValueError(f"within_document must be one of {', '.join(WITHIN_DOCUMENT)}, not {self.within_document!r}")
        if not 0.0 < self.duplicate_document_fraction <= 1.0:
            raise ValueError("dedup duplicate_document_fraction must be in (0, 1]")

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DedupSettings:
        return cls(**data)
