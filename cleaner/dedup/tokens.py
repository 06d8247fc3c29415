"""Text -> hashes of its normalised words, without a Python step per word.

Tokens are found on the UTF-8 bytes with numpy (split at ASCII whitespace, as str.split()
does; other whitespace such as NBSP is left to the normaliser, which splits on it too). Each
raw token gets a 64-bit hash computed with vectorised polynomial arithmetic, and a per-process
table maps raw-token hashes to the hashes of the token's normalised words. Only tokens never
seen before are decoded and normalised in Python (normalize.normalize_token), so the Unicode
work is done once per distinct token, not once per byte.

The table only memoises a pure function: results never depend on what it already holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from cleaner.dedup.normalize import normalize_tokens

_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_RAW_MULT = np.uint64(0x100000001B3)  # FNV-style odd multiplier for the raw-token polynomial
_PENDING_LIMIT = 1 << 15  # new entries collected before merging into the main table
_TABLE_LIMIT = 1 << 19  # distinct raw tokens remembered before starting afresh (bounds worker memory)


def word_hash(word: str) -> int:
    """64-bit hash of one normalised word."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, vectorised: spreads every input bit over the output."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


class _Table:
    """Raw-token hash -> a (start, count) range of word hashes in a pool.

    Lookups go to a sorted array (vectorised); tokens not in it go through a small dict of
    recent additions, which is merged into the sorted array once it has grown.
    """

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.starts = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.pool = np.zeros(1 << 16, dtype=np.uint64)
        self.pool_size = 0
        self.pending: dict[int, tuple[int, int]] = {}
        self.words: dict[str, int] = {}  # normalised word -> hash (many raw tokens share a word)

    def lookup(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found mask, starts, counts) for each raw hash; starts/counts valid where found."""
        if not len(self.keys):
            return np.zeros(len(raw), dtype=bool), np.zeros(len(raw), np.int64), np.zeros(len(raw), np.int64)
        at = np.minimum(np.searchsorted(self.keys, raw), len(self.keys) - 1)
        return self.keys[at] == raw, self.starts[at], self.counts[at]

    def add_tokens(self, raws: list[int], tokens: list[str]) -> None:
        """Normalise and hash tokens not in the table yet (all at once: one Unicode pass)."""
        for raw, words in zip(raws, normalize_tokens(tokens)):
            if raw in self.pending:
                continue
            hashes = [self.word(w) for w in words]
            if self.pool_size + len(hashes) > len(self.pool):
                self.pool = np.concatenate([self.pool, np.zeros(len(self.pool) + len(hashes), dtype=np.uint64)])
            self.pool[self.pool_size : self.pool_size + len(hashes)] = hashes
            self.pending[raw] = (self.pool_size, len(hashes))
            self.pool_size += len(hashes)

    def word(self, word: str) -> int:
        value = self.words.get(word)
        if value is None:
            value = self.words[word] = word_hash(word)
        return value

    def settle(self) -> None:
        """Merge recent additions into the sorted array; forget everything if it grew too big."""
        if len(self.keys) + len(self.pending) > _TABLE_LIMIT:
            self.__init__()  # type: ignore[misc]
        elif len(self.pending) >= _PENDING_LIMIT:
            keys = np.fromiter(self.pending.keys(), dtype=np.uint64, count=len(self.pending))
            ranges = np.array(list(self.pending.values()), dtype=np.int64).reshape(-1, 2)
            all_keys = np.concatenate([self.keys, keys])
            order = np.argsort(all_keys, kind="stable")
            self.keys = all_keys[order]
            self.starts = np.concatenate([self.starts, ranges[:, 0]])[order]
            self.counts = np.concatenate([self.counts, ranges[:, 1]])[order]
            self.pending = {}


_table = _Table()


def paragraph_words(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes (uint64) of every text's normalised words, concatenated, and words per text."""
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    data = np.frombuffer(b" ".join(encoded), dtype=np.uint8)
    space = _ASCII_SPACE[data]
    word = ~space
    edge = np.diff(np.concatenate(([False], word, [False])).astype(np.int8))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    if not len(starts):
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts), dtype=np.int64)
    lengths = ends - starts
    # Raw hash: sum of (byte + 1) * M**(position in token + 1), then mixed with the length.
    first_byte = np.cumsum(lengths) - lengths
    offset_in_token = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(first_byte, lengths)
    powers = np.cumprod(np.full(int(lengths.max()), _RAW_MULT, dtype=np.uint64))
    contribution = (data[word].astype(np.uint64) + np.uint64(1)) * powers[offset_in_token]
    raw = fmix64(np.add.reduceat(contribution, first_byte) ^ lengths.astype(np.uint64))
    found, where, count = _table.lookup(raw)
    if not found.all():
        missing = list(zip(np.flatnonzero(~found).tolist(), raw[~found].tolist()))
        pending = _table.pending
        new = {}
        for i, key in missing:
            if key not in pending and key not in new:
                new[key] = i
        if new:
            raw_bytes = data.tobytes()
            _table.add_tokens(list(new), [raw_bytes[starts[i] : ends[i]].decode("utf-8", "surrogatepass") for i in new.values()])
        for i, key in missing:
            where[i], count[i] = pending[key]
    # Expand each token to its words (usually exactly one); read the pool before settle().
    total = int(count.sum())
    first_word = np.cumsum(count) - count
    word_index = np.arange(total, dtype=np.int64) - np.repeat(first_word, count) + np.repeat(where, count)
    hashes = _table.pool[word_index]
    _table.settle()
    text_starts = np.concatenate(([0], np.cumsum(sizes + 1)[:-1]))
    token_text = np.searchsorted(text_starts, starts, side="right") - 1
    counts = np.bincount(token_text, weights=count, minlength=len(texts)).astype(np.int64)
    return hashes, counts
