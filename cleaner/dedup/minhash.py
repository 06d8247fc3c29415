"""Shingle hashes, MinHash signatures and LSH band hashes, vectorised with numpy.

Words are hashed in tokens.py (64-bit blake2b of each normalised word); a shingle's hash combines the hashes of its `ngram` words with 64-bit multiply-xor steps and a final MurmurHash3 mixer,
folded to 32 bits, computed for a whole batch of paragraphs at once. `shingle_hash` is the
scalar definition of the same function, used as datasketch's `hashfunc` in the tests.

Signatures follow datasketch's default "affine32" scheme exactly (pre-mix the 32-bit input
hash with the MurmurHash3 32-bit finalizer, then h -> a*h + b mod 2**32 with datasketch's own
permutation parameters for the seed), so a signature here equals
`datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash)` updated with the same shingles
and Jaccard estimates agree exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cleaner.dedup.tokens import fmix64, word_hash

_MASK64 = (1 << 64) - 1
_MIX = 0x9E3779B97F4A7C15  # odd 64-bit multiplier (golden ratio) for combining word hashes
_BAND_SEED = 0x2545F4914F6CDD1D
_EMPTY = np.uint32(0xFFFFFFFF)
# Shingles per block when applying the permutations: bounds the num_perm x block temporary.
_BLOCK = 8192


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def shingle_hash(words: Sequence[str]) -> int:
    """32-bit hash of one shingle (a tuple of normalised words); the scalar reference."""
    h = 0
    for word in words:
        h = ((h ^ word_hash(word)) * _MIX) & _MASK64
    return _fmix64_int(h) >> 32


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def exact_hashes(tokens: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """64-bit hash of each paragraph's normalised word sequence (via its 64-bit word hashes)."""
    out = np.empty(len(counts), dtype=np.uint64)
    data = tokens.tobytes()
    position = 0
    for i, count in enumerate(counts.tolist()):
        end = position + count * 8
        out[i] = int.from_bytes(hashlib.blake2b(data[position:end], digest_size=8).digest(), "little")
        position = end
    return out


def shingle_sets(tokens: np.ndarray, counts: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique shingle hashes of every paragraph, concatenated, with offsets (n + 1).

    `tokens` are the concatenated word hashes and `counts` the words per paragraph (as from
    Tokenizer.paragraph_words). A paragraph with fewer than `ngram` words has no shingles.
    """
    total = len(tokens)
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    n_shingles = np.maximum(counts - ngram + 1, 0)
    if total < ngram or not n_shingles.any():
        return np.zeros(0, dtype=np.uint32), np.zeros(len(counts) + 1, dtype=np.int64)
    width = total - ngram + 1
    h = np.zeros(width, dtype=np.uint64)
    mix = np.uint64(_MIX)
    for j in range(ngram):
        h = (h ^ tokens[j : j + width]) * mix
    h = (fmix64(h) >> np.uint64(32)).astype(np.uint64)
    # Valid shingle starts: positions whose n-gram stays inside one paragraph.
    owner = np.repeat(np.arange(len(counts), dtype=np.uint64), n_shingles)
    local = np.arange(len(owner), dtype=np.int64) - np.repeat(np.cumsum(n_shingles) - n_shingles, n_shingles)
    positions = np.repeat(starts[:-1], n_shingles) + local
    keys = np.sort((owner << np.uint64(32)) | h[positions])
    if len(keys) > 1:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    per_paragraph = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=len(counts))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(per_paragraph, out=offsets[1:])
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), offsets


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this seed, drawn as datasketch
    draws them (`MinHash._init_permutations`) without importing it: its package pulls in scipy,
    about two seconds of start-up in every worker. tests/test_dedup_minhash.py checks they match."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signatures(shingles: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signature (uint32[num_perm]) of each shingle set given as concatenation + offsets.

    An empty set gets the all-0xFFFFFFFF signature, as an empty datasketch MinHash has.
    """
    a, b = permutations(num_perm, seed)
    n = len(offsets) - 1
    out = np.full((n, num_perm), _EMPTY, dtype=np.uint32)
    mixed = _fmix32(shingles.astype(np.uint32))
    # Layout perms x shingles: the min-reduction then runs along contiguous rows, which is
    # several times faster than reducing across rows of a shingles x perms block.
    buffer = np.empty((num_perm, min(len(shingles), _BLOCK)), dtype=np.uint32)
    first = 0
    while first < n:
        # A block of whole paragraphs holding about _BLOCK shingles (at least one paragraph).
        last = int(np.searchsorted(offsets, offsets[first] + _BLOCK, side="right")) - 1
        last = max(last, first + 1)
        lo, hi = int(offsets[first]), int(offsets[last])
        if hi > lo:
            if hi - lo > buffer.shape[1]:
                buffer = np.empty((num_perm, hi - lo), dtype=np.uint32)
            values = np.multiply(a[:, None], mixed[None, lo:hi], out=buffer[:, : hi - lo])
            np.add(values, b[:, None], out=values)
            local = offsets[first:last] - lo
            nonempty = offsets[first + 1 : last + 1] > offsets[first:last]
            out[first:last][nonempty] = np.minimum.reduceat(values, local[nonempty], axis=1).T
        first = last
    return out


def band_hashes(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """64-bit hash of each band's rows: uint64[paragraphs, bands]."""
    n = signature.shape[0]
    cut = signature[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    h = np.full((n, bands), _BAND_SEED, dtype=np.uint64)
    mix = np.uint64(_MIX)
    for r in range(rows):
        h = (h ^ cut[:, :, r]) * mix
    return fmix64(h)
