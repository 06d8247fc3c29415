"""The one place that decides when two paragraphs count as the same text.

Normalisation for hashing: Unicode NFKC, casefold, every decimal digit mapped to "0" (so dates,
prices and counters do not hide a duplicate), punctuation and symbols removed, whitespace
collapsed. The result is a list of words; exact hashes, shingles and word counts all derive
from it, so changing this module changes every dedup decision (and old states are refused
through the state format version).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_DIGIT = re.compile(r"\d")
# Everything that is neither a word character nor whitespace, plus "_" (which \w includes).
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_LINE_BREAKS = re.compile(r"[\r\n]")


def normalize_text(text: str) -> str:
    """Normalise text for comparison; the words of the result are separated by single spaces."""
    return " ".join(normalize_words([text])[0])


def normalize_words(texts: Sequence[str]) -> list[list[str]]:
    """Normalised words of each text, working on the whole batch in one pass for speed.

    Texts are joined with newlines and split again afterwards, so a line break inside a text
    is treated as plain whitespace first (paragraphs are single lines in practice).
    """
    if not texts:
        return []
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        joined = "\n".join(_LINE_BREAKS.sub(" ", text) for text in texts)
    folded = unicodedata.normalize("NFKC", joined).casefold()
    folded = _PUNCTUATION.sub("", _DIGIT.sub("0", folded))
    return [line.split() for line in folded.split("\n")]
