"""The one place that decides when two paragraphs count as the same text.

Normalisation for hashing: Unicode NFKC, casefold, every decimal digit mapped to "0" (so dates,
prices and counters do not hide a duplicate), punctuation and symbols removed (anything that
is neither a word character nor whitespace, and "_"), whitespace collapsed. The result is a
sequence of words; exact hashes, shingles and word counts all derive from it.

`normalize_text` applies the rules to a whole text. `normalize_tokens` applies the same rules
to whitespace-free tokens; since none of the steps joins characters across whitespace,
normalising token by token gives the same words (tested), and it lets the hashing code
memoise per distinct token instead of running the slow Unicode steps over every byte.
"""

from __future__ import annotations

import re
import unicodedata

_DIGIT = re.compile(r"\d")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _PUNCTUATION.sub("", _DIGIT.sub("0", folded))


def normalize_text(text: str) -> str:
    """The normalised words of a text, separated by single spaces."""
    return " ".join(_fold(text).split())


def normalize_tokens(tokens: list[str]) -> list[list[str]]:
    """The normalised words of each whitespace-free token: usually one, none for pure
    punctuation, several when NFKC expands a character into text with spaces (e.g. U+FDFA).

    The tokens are folded in one pass over their newline-joined text; no step changes or
    moves a newline, and tokens contain no ASCII whitespace, so the lines map back 1:1.
    """
    return [line.split() for line in _fold("\n".join(tokens)).split("\n")]
