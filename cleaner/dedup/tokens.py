"""Text -> hashes of its normalised words, without a Python step per word.

Tokens are found on the UTF-8 bytes with numpy (split at ASCII whitespace, as str.split()
does; other whitespace such as NBSP is left to the normaliser, which splits on it too). Each
raw token gets a 64-bit polynomial hash, computed for all tokens at once from one running sum
over the bytes: with S the prefix sums of (byte + 1) * M**(i + 1), a token's polynomial is
(S[end] - S[start]) * M**-start, since M is odd and so invertible modulo 2**64. A Tokenizer's
table maps raw-token hashes to the hashes of the token's normalised words. Only tokens never
seen before are decoded, normalised (normalize.normalize_tokens, one pass for all of them)
and hashed, so the Unicode work is done once per distinct token, not once per byte.

The table only memoises a pure function: results never depend on what it already holds. It
keeps each token's bytes and every lookup compares them, so two distinct tokens whose raw
hashes collide are never merged: the one the table does not hold is normalised on its own.
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
        self.token_at = np.zeros(capacity, dtype=np.int64)  # where each key's token bytes start in `text`
        self.token_lengths = np.zeros(capacity, dtype=np.int64)
        self.text = np.zeros(1 << 16, dtype=np.uint8)  # the tokens' bytes, back to back
        self.text_size = 0

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

    def words(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Normalise and hash tokens (all at once: one Unicode pass) into the pool: where each
        token's word hashes start there, and how many it has."""
        words = normalize_tokens(tokens)
        counts = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        hashes = word_hashes(list(chain.from_iterable(words)))
        self.pool, self.pool_size = _appended(self.pool, self.pool_size, hashes)
        return self.pool_size - len(hashes) + np.cumsum(counts) - counts, counts

    def add(self, raws: np.ndarray, tokens: list[str], data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        """Add distinct tokens not in the table yet; data[starts:ends] are their bytes."""
        where, counts = self.words(tokens)
        self.text, self.text_size = _appended(self.text, self.text_size, data[run_indexes(starts, ends - starts)])
        lengths = ends - starts
        token_at = self.text_size - int(lengths.sum()) + np.cumsum(lengths) - lengths
        self.insert(raws, where, counts, np.stack([token_at, lengths], axis=1))

    def other_tokens(self, slot: np.ndarray, token_bytes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The indexes of the tokens that are not the one the table holds at their slot (raw
        hashes that collided). `token_bytes` are the tokens' bytes back to back, `lengths`
        their lengths; the bytes are compared all at once and only mismatches are located."""
        held = self.token_at[slot]
        other_length = self.token_lengths[slot] != lengths
        held = np.where(other_length, 0, held)  # compared against anything: decided by the length
        differ = np.flatnonzero(token_bytes != self.text[run_indexes(held, lengths)])
        owners = np.searchsorted(np.cumsum(lengths), differ, side="right")
        return np.union1d(np.flatnonzero(other_length), owners)

    def insert(self, raws: np.ndarray, starts: np.ndarray, counts: np.ndarray, tokens: np.ndarray) -> None:
        """Put distinct keys not in the table yet into it, doubling it first if it would be over
        half full; `tokens` holds each key's (token_at, token_lengths)."""
        if 2 * (self.size + len(raws)) > len(self.keys):
            old = np.flatnonzero(self.used)
            keys, old_starts, old_counts = self.keys[old], self.starts[old], self.counts[old]
            old_tokens = np.stack([self.token_at[old], self.token_lengths[old]], axis=1)
            capacity = len(self.keys)
            while 2 * (self.size + len(raws)) > capacity:
                capacity *= 2
            pool, pool_size, text, text_size = self.pool, self.pool_size, self.text, self.text_size
            self.__init__(capacity)  # type: ignore[misc]
            self.pool, self.pool_size, self.text, self.text_size = pool, pool_size, text, text_size
            self.insert(keys, old_starts, old_counts, old_tokens)
        while len(raws):
            _, slot = self.slots(raws)
            # Keys that probed to the same empty slot: the first takes it, the others probe on.
            taken, first = np.unique(slot, return_index=True)
            self.used[taken] = True
            self.keys[taken] = raws[first]
            self.starts[taken] = starts[first]
            self.counts[taken] = counts[first]
            self.token_at[taken], self.token_lengths[taken] = tokens[first, 0], tokens[first, 1]
            self.size += len(taken)
            rest = np.ones(len(raws), dtype=bool)
            rest[first] = False
            raws, starts, counts, tokens = raws[rest], starts[rest], counts[rest], tokens[rest]

    def full(self) -> bool:
        """Whether the table holds so many tokens that it should start afresh (bounds memory)."""
        return self.size > _TABLE_LIMIT


def _appended(array: np.ndarray, size: int, values: np.ndarray) -> tuple[np.ndarray, int]:
    """`values` written after the first `size` items of `array`, grown (doubling) if needed."""
    if size + len(values) > len(array):
        array = np.concatenate([array, np.zeros(len(array) + len(values), dtype=array.dtype)])
    array[size : size + len(values)] = values
    return array, size + len(values)


def raw_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, powers: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Hash of each token data[start:end]: the sum of (byte + 1) * M**(position in token + 1)
    modulo 2**64, mixed with the token's length. `powers` are _powers(n) for some n >= len(data)."""
    up, down = powers if powers is not None else _powers(len(data))
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum((data.astype(np.uint64) + np.uint64(1)) * up[: len(data)], out=prefix[1:])
    return fmix64(((prefix[ends] - prefix[starts]) * down[starts]) ^ (ends - starts).astype(np.uint64))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(M**(i + 1), M**-i) modulo 2**64 for i < n."""
    up = np.cumprod(np.full(n, _RAW_MULT, dtype=np.uint64))
    down = np.ones(n, dtype=np.uint64)
    np.cumprod(np.full(max(n - 1, 0), _RAW_INVERSE, dtype=np.uint64), out=down[1:])
    return up, down


class Tokenizer:
    """Paragraph texts -> their normalised words' hashes, memoising the Unicode work per
    distinct token in its own table (one per worker: keep the instance between batches)."""

    def __init__(self) -> None:
        self._table = _Table()
        self._powers = _powers(1 << 16)

    def paragraph_words(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
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
        raw = raw_hashes(data, starts, ends, self._powers_for(len(data)))
        table = self._table
        found, slot = table.slots(raw)
        if not found.all():
            missing = np.flatnonzero(~found)
            new, first = np.unique(raw[missing], return_index=True)
            at = missing[first]
            table.add(new, _decoded(joined, starts[at], ends[at]), data, starts[at], ends[at])  # may move every slot
            _, slot = table.slots(raw)
        where, count = table.starts[slot], table.counts[slot]
        other = table.other_tokens(slot, data[word], ends - starts)
        if len(other):  # a raw-hash collision: these tokens are not the ones the table holds
            where[other], count[other] = table.words(_decoded(joined, starts[other], ends[other]))
        # Expand each token to its words (usually exactly one); read the pool before starting afresh.
        hashes = table.pool[run_indexes(where, count)]
        if table.full():
            self._table = _Table()
        text_starts = np.concatenate(([0], np.cumsum(sizes + 1)[:-1]))
        token_text = np.searchsorted(text_starts, starts, side="right") - 1
        counts = np.bincount(token_text, weights=count, minlength=len(texts)).astype(np.int64)
        return hashes, counts

    def _powers_for(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Powers for n bytes: kept up to _POWERS_KEPT bytes, larger batches compute their own."""
        if len(self._powers[0]) >= n:
            return self._powers
        powers = _powers(max(n, 2 * len(self._powers[0])))
        if len(powers[0]) <= _POWERS_KEPT:
            self._powers = powers
        return powers


def _decoded(joined: bytes, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    return [joined[s:e].decode("utf-8", "surrogatepass") for s, e in zip(starts.tolist(), ends.tolist())]

