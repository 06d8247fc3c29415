"""What the pipeline hands to dedup about a task's documents, and what dedup hands back per document."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from cleaner.dedup.fingerprint import FingerprintBatch
from cleaner.document import Claim, Rejection, Source, pickled_by_fields

# Columns of DedupBatch.refs, where each paragraph sits: its 0-based index into Cleaned.lines,
# its 1-based first and last line numbers, and its character range in the source text.
REF_COLUMNS = ("line_index", "first", "last", "start", "end")


@pickled_by_fields
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


def join_batches(batches: list[DedupBatch | None]) -> DedupBatch | None:
    """Consecutive tasks' batches as one (None when none of them kept a document): a dedup
    task covers several phase-1 tasks, so the shuffle has fewer sources (see sharded.py)."""
    found = [batch for batch in batches if batch is not None]
    if len(found) <= 1:
        return found[0] if found else None
    fingerprints = [batch.fingerprint for batch in found]
    return DedupBatch(
        [doc_id for batch in found for doc_id in batch.doc_ids], [path for batch in found for path in batch.paths],
        [site for batch in found for site in batch.sites], np.concatenate([batch.refs for batch in found]),
        np.concatenate([batch.boilerplate_like for batch in found]),
        FingerprintBatch(*(np.concatenate([getattr(fp, name) for fp in fingerprints])
                           for name in FingerprintBatch.__slots__)))


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


@dataclass(slots=True)
class DedupStats:
    """What one resolution found, field by field (stats.json's `duplicates` is built from it)."""

    documents: int = 0
    paragraphs: int = 0  # paragraphs and short lines of this run
    exact_paragraphs: int = 0  # removed as exact copies of an earlier one
    near_paragraphs: int = 0  # removed as near copies (MinHash, verified)
    exact_chars: int = 0
    near_chars: int = 0
    recurring_lines: int = 0  # short lines removed as recurring (same site, or boilerplate-shaped)
    recurring_across_sites_lines: int = 0
    recurring_chars: int = 0
    recurring_texts: int = 0  # distinct recurring texts
    navigation_copies: int = 0
    duplicate_documents: int = 0
    candidate_pairs: int = 0
    candidate_pairs_checked: int = 0
    candidate_pairs_linked: int = 0
    spill_bytes: int = 0  # this run's shingles and band hashes, written to files
    clusters: int = 0  # clusters this run touched
    cluster_sizes: dict[str, int] = field(default_factory=dict)  # size -> how many clusters
