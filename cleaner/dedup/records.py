"""What the pipeline hands to dedup about a paragraph, and what dedup hands back per document."""

from __future__ import annotations

from dataclasses import dataclass

from cleaner.document import Claim, Rejection


@dataclass(frozen=True, slots=True)
class ParagraphRef:
    """Where a paragraph sits in its document."""

    line_index: int  # 0-based index into Cleaned.lines
    first_line: int  # 1-based line numbers
    last_line: int
    start: int  # character offsets in the source text
    end: int


@dataclass(frozen=True)
class DocumentDecision:
    removals: list[tuple[int, Claim]]  # (line_index, claim), in line order
    rejection: Rejection | None
