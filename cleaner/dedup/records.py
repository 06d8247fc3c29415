"""What the pipeline hands to dedup about a task's documents, and what dedup hands back per document."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from cleaner.dedup.fingerprint import FingerprintBatch
from cleaner.document import Claim, Rejection, Source

# Columns of DedupBatch.refs, where each paragraph sits: its 0-based index into Cleaned.lines,
# its 1-based first and last line numbers, and its character range in the source text.
REF_COLUMNS = ("line_index", "first", "last", "start", "end")


@dataclass(frozen=True, slots=True)
class DedupBatch:
    """What phase 2 needs to deduplicate a task's kept documents, in flat arrays: the
    documents' paragraphs back to back, `fingerprint.counts` of them per document."""

    doc_ids: list[str]
    paths: list[str]
    sites: list[str]  # site_key of each document: recurrence counts pages of one site first
    refs: np.ndarray  # int64[paragraphs, len(REF_COLUMNS)]
    boilerplate_like: np.ndarray  # bool[paragraphs]: see shape.boilerplate_like
    fingerprint: FingerprintBatch


def site_key(source: Source) -> str:
    """The site a document belongs to: its URL's host where known (without "www."), else the
    directory it sits in below the input root, since crawls are usually stored one site per
    directory. Lines recurring on pages of one site are that site's template."""
    if source.url:
        host = (urlsplit(source.url).hostname or "").removeprefix("www.")
        if host:
            return f"host:{host}"
    return f"dir:{posixpath.dirname(source.path)}"


@dataclass(frozen=True)
class DocumentDecision:
    removals: list[tuple[int, Claim]]  # (line_index, claim), in line order
    rejection: Rejection | None
