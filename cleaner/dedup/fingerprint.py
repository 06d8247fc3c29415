"""Phase 1 of deduplication: what a worker computes for one document's paragraphs.

Everything here is a pure function of the paragraph texts and the settings, so fingerprints
can be computed in any process, in any order, and give the same decisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cleaner.dedup.minhash import band_hashes, shingle_sets, signatures
from cleaner.dedup.normalize import normalize_words
from cleaner.dedup.settings import DedupSettings


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


def exact_hash(normalized: str) -> int:
    return int.from_bytes(hashlib.blake2b(normalized.encode("utf-8"), digest_size=8).digest(), "little")


def fingerprint(texts: Sequence[str], settings: DedupSettings) -> DocFingerprint:
    """Normalise, hash and sign the paragraphs of one document (or any batch of paragraphs)."""
    assert settings.bands is not None and settings.rows is not None
    words = normalize_words(texts)
    exact = np.array([exact_hash(" ".join(w)) for w in words], dtype=np.uint64)
    counts = np.array([len(w) for w in words], dtype=np.int32)
    shingles, offsets = shingle_sets(words, settings.ngram)
    sizes = np.diff(offsets)
    long = sizes >= settings.min_shingles
    keep = np.repeat(long, sizes)
    kept_sizes = np.where(long, sizes, 0)
    long_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(kept_sizes, out=long_offsets[1:])
    long_shingles = shingles[keep]
    dense = np.concatenate(([0], np.cumsum(sizes[long]))).astype(np.int64)
    signature = signatures(long_shingles, dense, settings.num_perm, settings.seed)
    bands = band_hashes(signature, settings.bands, settings.rows)
    return DocFingerprint(exact, counts, long_offsets, long_shingles, bands)
