"""Text -> hashes of its normalised words, without a Python step per word.

Tokens are found on the UTF-8 bytes with numpy (split at ASCII whitespace, as str.split()
does; other whitespace such as NBSP is left to the normaliser, which splits on it too). Each
raw token gets a 64-bit polynomial hash, computed for all tokens at once from one running sum
over the bytes: with S the prefix sums of (byte + 1) * M**(i + 1), a token's polynomial is
(S[end] - S[start]) * M**-start, since M is odd and so invertible modulo 2**64. A per-process
table maps raw-token hashes to the hashes of the token's normalised words. Only tokens never
seen before are decoded, normalised (normalize.normalize_tokens, one pass for all of them)
and hashed, so the Unicode work is done once per distinct token, not once per byte.

The table only memoises a pure function: results never depend on what it already holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import partial
from itertools import chain
from operator import methodcaller

import numpy as np

from cleaner.dedup.columns import run_indexes
from cleaner.dedup.normalize import normalize_tokens

_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_RAW_MULT = 0x100000001B3  # FNV-style odd multiplier for the raw-token polynomial
_RAW_INVERSE = pow(_RAW_MULT, -1, 1 << 64)
_POWERS_KEPT = 1 << 21  # bytes of powers kept between calls (larger batches compute their own)
_TABLE_LIMIT = 1 << 19  # distinct raw tokens remembered before starting afresh (bounds worker memory)
_blake2b_64 = partial(hashlib.blake2b, digest_size=8)
_digest = methodcaller("digest")


def word_hash(word: str) -> int:
    """64-bit hash of one normalised word."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def word_hashes(words: list[str]) -> np.ndarray:
    """word_hash of every word, as uint64, with the iteration in C."""
    digests = b"".join(map(_digest, map(_blake2b_64, map(str.encode, words))))
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, vectorised: spreads every input bit over the output."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


_powers_kept = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(M**(i + 1), M**-i) modulo 2**64 for i < n."""
    global _powers_kept
    up, down = _powers_kept
    if len(up) < n:
        size = min(max(n, 2 * len(up), 1 << 16), max(n, _POWERS_KEPT))
        up = np.cumprod(np.full(size, _RAW_MULT, dtype=np.uint64))
        down = np.ones(size, dtype=np.uint64)
        np.cumprod(np.full(size - 1, _RAW_INVERSE, dtype=np.uint64), out=down[1:])
        if size <= _POWERS_KEPT:
            _powers_kept = (up, down)
    return up[:n], down[:n]


class _Table:
    """Raw-token hash -> a (start, count) range of word hashes in a pool.

    An open-addressing hash table (linear probing, at most half full) held in numpy arrays,
    so a whole batch is looked up with a few vectorised gathers: raw hashes are already
    mixed, so their low bits are the slot.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.mask = capacity - 1
        self.used = np.zeros(capacity, dtype=bool)
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.starts = np.zeros(capacity, dtype=np.int64)
        self.counts = np.zeros(capacity, dtype=np.int64)
        self.size = 0
        self.pool = np.zeros(1 << 16, dtype=np.uint64)
        self.pool_size = 0

    def slots(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, slot) per raw hash: its slot, or where probing for it hit an empty one."""
        slot = (raw & np.uint64(self.mask)).astype(np.int64)
        pending = np.arange(len(raw))
        while len(pending):
            at = slot[pending]
            probe_on = self.used[at] & (self.keys[at] != raw[pending])
            pending = pending[probe_on]
            slot[pending] = (slot[pending] + 1) & self.mask
        return self.used[slot], slot

    def add(self, raws: np.ndarray, tokens: list[str]) -> None:
        """Normalise and hash distinct tokens not in the table yet (all at once: one Unicode pass)."""
        words = normalize_tokens(tokens)
        counts = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        hashes = word_hashes(list(chain.from_iterable(words)))
        if self.pool_size + len(hashes) > len(self.pool):
            self.pool = np.concatenate([self.pool, np.zeros(len(self.pool) + len(hashes), dtype=np.uint64)])
        self.pool[self.pool_size : self.pool_size + len(hashes)] = hashes
        starts = self.pool_size + np.cumsum(counts) - counts
        self.pool_size += len(hashes)
        self.insert(raws, starts, counts)

    def insert(self, raws: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> None:
        """Put distinct keys not in the table yet into it, doubling it first if it would be over half full."""
        if 2 * (self.size + len(raws)) > len(self.keys):
            old = np.flatnonzero(self.used)
            keys, old_starts, old_counts = self.keys[old], self.starts[old], self.counts[old]
            capacity = len(self.keys)
            while 2 * (self.size + len(raws)) > capacity:
                capacity *= 2
            pool, pool_size = self.pool, self.pool_size
            self.__init__(capacity)  # type: ignore[misc]
            self.pool, self.pool_size = pool, pool_size
            self.insert(keys, old_starts, old_counts)
        while len(raws):
            _, slot = self.slots(raws)
            # Keys that probed to the same empty slot: the first takes it, the others probe on.
            taken, first = np.unique(slot, return_index=True)
            self.used[taken] = True
            self.keys[taken] = raws[first]
            self.starts[taken] = starts[first]
            self.counts[taken] = counts[first]
            self.size += len(taken)
            rest = np.ones(len(raws), dtype=bool)
            rest[first] = False
            raws, starts, counts = raws[rest], starts[rest], counts[rest]

    def settle(self) -> None:
        """Forget everything once the table holds too many tokens (bounds worker memory)."""
        if self.size > _TABLE_LIMIT:
            self.__init__()  # type: ignore[misc]


_table = _Table()


def raw_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of each token data[start:end]: the sum of (byte + 1) * M**(position in token + 1)
    modulo 2**64, mixed with the token's length."""
    up, down = _powers(len(data))
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum((data.astype(np.uint64) + np.uint64(1)) * up, out=prefix[1:])
    return fmix64(((prefix[ends] - prefix[starts]) * down[starts]) ^ (ends - starts).astype(np.uint64))


def paragraph_words(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes (uint64) of every text's normalised words, concatenated, and words per text."""
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    joined = b" ".join(encoded)
    data = np.frombuffer(joined, dtype=np.uint8)
    word = ~_ASCII_SPACE[data]
    edge = np.diff(np.concatenate(([False], word, [False])).astype(np.int8))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    if not len(starts):
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts), dtype=np.int64)
    raw = raw_hashes(data, starts, ends)
    found, slot = _table.slots(raw)
    where, count = _table.starts[slot], _table.counts[slot]
    if not found.all():
        missing = np.flatnonzero(~found)
        new, first = np.unique(raw[missing], return_index=True)
        at = missing[first]
        tokens = [joined[s:e].decode("utf-8", "surrogatepass") for s, e in zip(starts[at].tolist(), ends[at].tolist())]
        _table.add(new, tokens)  # may grow the table and so move every slot
        _, slot = _table.slots(raw[missing])
        where[missing], count[missing] = _table.starts[slot], _table.counts[slot]
    # Expand each token to its words (usually exactly one); read the pool before settle().
    hashes = _table.pool[run_indexes(where, count)]
    _table.settle()
    text_starts = np.concatenate(([0], np.cumsum(sizes + 1)[:-1]))
    token_text = np.searchsorted(text_starts, starts, side="right") - 1
    counts = np.bincount(token_text, weights=count, minlength=len(texts)).astype(np.int64)
    return hashes, counts
