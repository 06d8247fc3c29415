"""The quality heuristics' words equal their plain definition.

The plain definition (split at whitespace, strip the edge punctuation, lowercase, drop empty
tokens) is kept here as the oracle; quality.py lowers the whole text and strips with C-level
map/filter, and counts and measures the words with numpy when no heuristic needs the words.
"""

import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cleaner.document import Cleaned, Document, Source
from cleaner.filters.quality import _PUNCT_EDGES, _Text, word_totals


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
