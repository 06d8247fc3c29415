"""The quality heuristics' words equal their plain definition.

The plain definition (split at whitespace, strip the edge punctuation, lowercase, drop empty
tokens) is kept here as the oracle; quality.py lowers the whole text and strips with C-level
map/filter, and counts and measures the words with numpy when no heuristic needs the words.
"""

import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cleaner.document import Cleaned, Document, Source
from cleaner.filters.quality import (
    _LETTER,
    _PUNCT_EDGES,
    _alpha_words,
    _duplicate_ngram,
    _Text,
    _top_ngram,
    word_totals,
)


def oracle_words(text: str) -> list[str]:
    return [w for w in (t.strip(_PUNCT_EDGES).lower() for t in text.split()) if w]


def cleaned(text: str) -> Cleaned:
    size = len(text.encode("utf-8", "surrogatepass"))
    doc = Cleaned.start(Document("doc", text, Source("doc.txt", "in", "0" * 64, size, "txt")))
    doc.lang = "de"
    return doc


# Characters where a faster tokeniser could part from split/strip/lower: every kind of
# whitespace, the edge punctuation, punctuation that is not an edge, letters whose lowercase is
# longer (İ) or depends on context (Σ: final sigma), case-ignorable marks, digits, surrogates,
# and any code point.
_TRICKY = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
    + _PUNCT_EDGES
    + "#&@%_~^$'’.:·\u0301\u0307\u00ad\ud800"
    + "aZßİIıΣσςΑΒÉéǅǄᾼ\u1e9e0٣"
)
_text = st.text(st.one_of(st.sampled_from(_TRICKY), st.characters(codec=None)), max_size=60)


@settings(max_examples=2000, deadline=None)
@given(_text)
@example("ΑΣ. ΑΣ' (Σ) ΑΣ.Β Σ")
@example("İstanbul «İ» -- ... ǅemal İ.")
@example("\u2028word\u3000—\xa0)(")
def test_words_equal_the_definition(text):
    expected = oracle_words(text)
    totals = (len(expected), sum(map(len, expected)))
    for chunk in (1, 3, 1 << 20):
        assert word_totals(text, chunk) == totals
    kept = _Text(cleaned(text), need_words=True)
    assert kept.words == oracle_words(kept.text)
    for need_words in (False, True):
        words = oracle_words(kept.text)
        assert _Text(cleaned(text), need_words).totals == (len(words), sum(map(len, words)))


def test_what_the_fast_paths_rely_on():
    """For every code point: lower() keeps whitespace and edge punctuation and makes none of
    them from other characters; only U+0130 changes length; no whitespace or edge punctuation
    above U+3000 (word_totals clips code points there)."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        lowered = char.lower()
        if char in _PUNCT_EDGES or char.isspace():
            assert lowered == char
        else:
            assert not any(c in _PUNCT_EDGES or c.isspace() for c in lowered), hex(code)
        assert len(lowered) == 1 or code == 0x130, hex(code)
        assert code <= 0x3000 or not (char.isspace() or char in _PUNCT_EDGES), hex(code)


def oracle_top_ngram(words: list[str], n: int) -> float:
    """Gopher's definition, with tuples: characters of the most frequent n-gram (ties: first seen)."""
    total = sum(map(len, words))
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not total or not grams:
        return 0.0
    counts = {g: grams.count(g) for g in grams}
    best = max(counts.values())
    if best < 2:
        return 0.0
    start = next(i for i, g in enumerate(grams) if counts[g] == best)
    return sum(map(len, words[start : start + n])) * best / total


def oracle_duplicate_ngram(words: list[str], n: int) -> float:
    total = sum(map(len, words))
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    seen, repeated, i = set(), 0, 0
    while i < len(grams):
        if grams[i] in seen:
            repeated += sum(map(len, words[i : i + n]))
            i += n
        else:
            seen.add(grams[i])
            i += 1
    return repeated / total if total else 0.0


@given(st.lists(st.sampled_from(["a", "bb", "ccc", "a.", "1", "_x", "ß", "日本"]), max_size=60))
@settings(max_examples=300, deadline=None)
def test_ngram_and_letter_heuristics_equal_their_plain_definitions(tokens: list[str]) -> None:
    """The numbered n-grams and the one-search letter count give the plain definitions' values."""
    text = _Text(cleaned(" ".join(tokens)), need_words=True)
    words = oracle_words(" ".join(tokens))
    for n in range(2, 5):
        assert _top_ngram(text, n) == oracle_top_ngram(words, n)
    for n in range(5, 11):
        assert _duplicate_ngram(text, n) == oracle_duplicate_ngram(words, n)
    assert _alpha_words(text) == (sum(1 for w in words if _LETTER.search(w)) / len(words) if words else 0.0)
