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


@dataclass(frozen=True, slots=True)
class FingerprintBatch:
    """The fingerprints of several documents in flat arrays, their paragraphs back to back.

    A task's documents travel from worker to driver as one batch: a handful of arrays pickle and
    load far faster than several small objects per document, and the deduplicator takes them in
    with a few vectorised appends.

    counts:   int64[documents] paragraphs per document
    exact:    uint64[paragraphs]; words: int32[paragraphs] (as in DocFingerprint)
    sizes:    int64[paragraphs] shingles kept per paragraph (0 unless it is long)
    shingles: uint32 the long paragraphs' shingles, back to back
    bands:    uint64[long paragraphs, bands]
    """

    counts: np.ndarray
    exact: np.ndarray
    words: np.ndarray
    sizes: np.ndarray
    shingles: np.ndarray
    bands: np.ndarray

    @classmethod
    def of(cls, fp: DocFingerprint) -> FingerprintBatch:
        """A batch of one document."""
        return cls(np.array([len(fp)], dtype=np.int64), fp.exact, fp.words, np.diff(fp.offsets), fp.shingles, fp.bands)

    def documents(self) -> list[DocFingerprint]:
        """One DocFingerprint per document, in order."""
        out = []
        long = self.sizes > 0
        long_before = np.concatenate(([0], np.cumsum(long)))
        shingle_before = np.concatenate(([0], np.cumsum(self.sizes)))
        first = 0
        for count in self.counts.tolist():
            last = first + count
            offsets = shingle_before[first : last + 1] - shingle_before[first]
            lo, hi = long_before[first], long_before[last]
            out.append(DocFingerprint(self.exact[first:last].copy(), self.words[first:last].copy(), offsets,
                                      self.shingles[shingle_before[first] : shingle_before[last]].copy(),
                                      self.bands[lo:hi].copy()))
            first = last
        return out


def fingerprint_many(documents: Sequence[Sequence[str]], settings: DedupSettings) -> list[DocFingerprint]:
    """Fingerprints of several documents, identical to calling fingerprint() per document."""
    return fingerprint_batch(documents, settings).documents()


def fingerprint_batch(documents: Sequence[Sequence[str]], settings: DedupSettings) -> FingerprintBatch:
    """Fingerprints of several documents computed in one vectorised pass.

    Batching a few dozen documents per call amortises numpy's per-call overhead, which
    dominates for short documents.
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
    return FingerprintBatch(np.array([len(d) for d in documents], dtype=np.int64), exact, counts.astype(np.int32),
                            np.where(long, sizes, 0).astype(np.int64), long_shingles, bands)
