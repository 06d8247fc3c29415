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
from cleaner.dedup.tokens import paragraph_words


@dataclass(frozen=True, slots=True)
class DocFingerprint:
    """Compact, picklable hashes of one document's paragraphs (numpy arrays only).

    exact:    uint64[n] hash of each normalised paragraph
    words:    int32[n] normalised word count (0: nothing left to compare, never deduplicated)
    offsets:  int64[n + 1] into `shingles`; only paragraphs with >= min_shingles shingles
              ("long") keep their shingles, the others have an empty range
    shingles: uint32 sorted unique shingle hashes of the long paragraphs, concatenated
    bands:    uint64[long paragraphs, bands] LSH band hashes, in paragraph order
    """

    exact: np.ndarray
    words: np.ndarray
    offsets: np.ndarray
    shingles: np.ndarray
    bands: np.ndarray

    def __len__(self) -> int:
        return len(self.exact)

    @property
    def long(self) -> np.ndarray:
        """Boolean mask of the paragraphs compared by MinHash."""
        return self.offsets[1:] > self.offsets[:-1]


def fingerprint(texts: Sequence[str], settings: DedupSettings) -> DocFingerprint:
    """Normalise, hash and sign the paragraphs of one document."""
    return fingerprint_many([texts], settings)[0]


def fingerprint_many(documents: Sequence[Sequence[str]], settings: DedupSettings) -> list[DocFingerprint]:
    """Fingerprints of several documents computed in one vectorised pass.

    Identical to calling fingerprint() per document; batching a few dozen documents per call
    amortises numpy's per-call overhead, which dominates for short documents.
    """
    assert settings.bands is not None and settings.rows is not None
    texts = [text for document in documents for text in document]
    tokens, counts = paragraph_words(texts)
    exact = exact_hashes(tokens, counts)
    shingles, offsets = shingle_sets(tokens, counts, settings.ngram)
    sizes = np.diff(offsets)
    long = sizes >= settings.min_shingles
    long_shingles = shingles[np.repeat(long, sizes)]
    dense = np.zeros(int(long.sum()) + 1, dtype=np.int64)
    np.cumsum(sizes[long], out=dense[1:])
    bands = band_hashes(signatures(long_shingles, dense, settings.num_perm, settings.seed), settings.bands, settings.rows)
    words = counts.astype(np.int32)
    long_before = np.concatenate(([0], np.cumsum(long)))
    out = []
    first = 0
    for document in documents:
        last = first + len(document)
        doc_long = long[first:last]
        doc_offsets = np.zeros(len(document) + 1, dtype=np.int64)
        np.cumsum(np.where(doc_long, sizes[first:last], 0), out=doc_offsets[1:])
        lo, hi = long_before[first], long_before[last]
        out.append(
            DocFingerprint(
                exact[first:last].copy(),
                words[first:last].copy(),
                doc_offsets,
                long_shingles[dense[lo] : dense[hi]].copy(),
                bands[lo:hi].copy(),
            )
        )
        first = last
    return out
