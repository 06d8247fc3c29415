"""Phase 1 of deduplication: what a worker computes for one document's paragraphs.

Everything here is a pure function of the paragraph texts and the settings, so fingerprints
can be computed in any process, in any order, and give the same decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cleaner.dedup.minhash import band_hashes, exact_hashes, shingle_sets, signatures
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.tokens import Tokenizer


@dataclass(frozen=True, slots=True)
class FingerprintBatch:
    """The fingerprints of several documents in flat arrays, their paragraphs back to back.

    A task's documents travel from worker to driver as one batch: a handful of arrays pickle and
    load far faster than several small objects per document, and the deduplicator takes them in
    with a few vectorised appends.

    counts:   int64[documents] paragraphs per document
    exact:    uint64[paragraphs] hash of each normalised paragraph
    words:    int32[paragraphs] normalised word count (0: nothing left to compare, never deduplicated)
    sizes:    int64[paragraphs] shingles kept per paragraph: only paragraphs with >= min_shingles
              shingles ("long") keep theirs, the others 0
    shingles: uint32 sorted unique shingle hashes of each long paragraph, back to back
    bands:    uint64[long paragraphs, bands]
    """

    counts: np.ndarray
    exact: np.ndarray
    words: np.ndarray
    sizes: np.ndarray
    shingles: np.ndarray
    bands: np.ndarray


def fingerprint_batch(documents: Sequence[Sequence[str]], settings: DedupSettings,
                      tokenizer: Tokenizer | None = None) -> FingerprintBatch:
    """Fingerprints of several documents computed in one vectorised pass.

    Batching a few dozen documents per call amortises numpy's per-call overhead, which
    dominates for short documents. A worker passes the same `tokenizer` to every call, so each
    distinct token is normalised once per worker; without one, once per call.
    """
    assert settings.bands is not None and settings.rows is not None
    texts = [text for document in documents for text in document]
    tokens, counts = (tokenizer or Tokenizer()).paragraph_words(texts)
    exact = exact_hashes(tokens, counts)
    shingles, offsets = shingle_sets(tokens, counts, settings.ngram)
    sizes = np.diff(offsets)
    long = sizes >= settings.min_shingles
    long_shingles = shingles[np.repeat(long, sizes)]
    dense = np.zeros(int(long.sum()) + 1, dtype=np.int64)
    np.cumsum(sizes[long], out=dense[1:])
    bands = band_hashes(signatures(long_shingles, dense, settings.num_perm, settings.seed), settings.bands, settings.rows)
    return FingerprintBatch(np.array([len(d) for d in documents], dtype=np.int64), exact, counts.astype(np.int32),
                            np.where(long, sizes, 0).astype(np.int64), long_shingles, bands)
