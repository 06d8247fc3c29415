"""Tokenizer.paragraph_words: the table of known tokens and the raw-token hash change no result."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.dedup.normalize import normalize_text
from cleaner.dedup.tokens import _RAW_MULT, Tokenizer, fmix64, raw_hashes, word_hash

_MASK = (1 << 64) - 1


def expected(texts: list[str]) -> tuple[list[int], list[int]]:
    words = [normalize_text(t).split() for t in texts]
    return [word_hash(w) for ws in words for w in ws], [len(ws) for ws in words]


def result(texts: list[str], tokenizer: Tokenizer | None = None) -> tuple[list[int], list[int]]:
    hashes, counts = (tokenizer or Tokenizer()).paragraph_words(texts)
    return hashes.tolist(), counts.tolist()


def test_raw_hash_is_the_per_token_polynomial():
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, 200_000, dtype=np.uint8)
    cuts = np.sort(rng.choice(len(data), 2_000, replace=False))
    starts, ends = cuts[0::2], cuts[1::2]
    for start, end, got in zip(starts.tolist(), ends.tolist(), raw_hashes(data, starts, ends).tolist()):
        h = 0
        power = 1
        for byte in data[start:end].tolist():
            power = power * _RAW_MULT & _MASK
            h = (h + (byte + 1) * power) & _MASK
        assert got == int(fmix64(np.array([h ^ (end - start)], dtype=np.uint64))[0])


def test_results_do_not_depend_on_the_table():
    """Fresh table, warm table, a table that grew (rehashed) mid-way: the same words."""
    vocabulary = [f"Wort{i} straße{i % 7}, ﬁ{i}" for i in range(40_000)]
    texts = [" ".join(vocabulary[i : i + 30]) for i in range(0, len(vocabulary), 30)]
    tokenizer = Tokenizer()
    cold = result(texts, tokenizer)
    assert cold == expected(texts)
    assert result(texts, tokenizer) == cold
    fresh = Tokenizer()
    halves = result(texts[: len(texts) // 2], fresh), result(texts[len(texts) // 2 :], fresh)
    assert (halves[0][0] + halves[1][0], halves[0][1] + halves[1][1]) == cold


def _hold(tokenizer: Tokenizer, token: str, under: str) -> None:
    """Make the tokenizer's table hold `token` under the raw hash of `under`: a 64-bit
    collision, which cannot be found by search, placed where a real one would sit."""
    data = np.frombuffer(under.encode(), dtype=np.uint8)
    raw = raw_hashes(data, np.array([0]), np.array([len(data)]))
    held = np.frombuffer(token.encode(), dtype=np.uint8)
    tokenizer._table.add(raw, [token], held, np.array([0]), np.array([len(held)]))


def test_tokens_whose_raw_hashes_collide_are_not_merged():
    tokenizer = Tokenizer()
    _hold(tokenizer, "apple", under="pears")  # same length
    _hold(tokenizer, "fig", under="melons")  # another length
    texts = ["pears and melons", "apple fig pears"]
    assert result(texts, tokenizer) == expected(texts)


def test_tokenizers_keep_their_own_tables():
    """A table filled by one tokenizer changes nothing for another."""
    one, two = Tokenizer(), Tokenizer()
    _hold(one, "apple", under="pears")
    assert result(["pears"], two) == expected(["pears"])
    assert two._table.size == 1


_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_alphabet = st.one_of(st.sampled_from(_WHITESPACE + "aÄß1٣_-.,\u0301\ufdfa\ud800ﬁＡⅫ"), st.characters(codec=None))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_alphabet, max_size=40), max_size=6), st.lists(st.text(_alphabet, max_size=40), max_size=6))
def test_batches_equal_whole_text_normalisation(first, second):
    assert result(first) == expected(first)
    assert result(second) == expected(second)
    assert result(first + second) == expected(first + second)
