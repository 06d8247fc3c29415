"""Whether a short line looks like boilerplate on its own: what a line recurring across
different sites needs before recurrence may remove it (DESIGN.md, "Signals, strongest first").

A line seen on three pages of one site is that site's template. A line seen on pages of three
different sites is as often a common heading ("Conclusion", "Key takeaways", "Ingredients") as
a common widget ("Share this article"), so it goes only when it also has a boilerplate shape:
it is not a sentence (no terminal punctuation) and either holds the boilerplate vocabulary of
its document's language (rules/generic/<lang>.toml: lines, phrases, caption and byline
prefixes, teaser-list headers), or is link- or menu-like (link tokens, "Home | News | Sport"
separators, or one of a run of one-to-three-word lines, as menus, tag lists and share bars are).
Inside one document the same shape tells a menu printed twice from a repeated table cell.
Languages without a vocabulary file are judged on shape alone, never on another's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cleaner.filters.generic import Features, GenericConfig, Vocabulary, features, load_generic_config

# A menu, tag list or share bar: at least MENU_RUN consecutive lines of at most MENU_ITEM_WORDS
# words, each a menu item: words of letters only (with inner hyphens and apostrophes, "&"
# between them), the first starting with a capital or an uncased letter. A column of numbers
# is a table and lines with digits, brackets or colons are code or headers: content.
MENU_RUN = 3
MENU_ITEM_WORDS = 3
CACHE_LIMIT = 1 << 18  # lines remembered by a LineShapes (bounds worker memory)
_MENU_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|&")


class LineShapes:
    """Boilerplate-shape flags of a document's kept lines, with the vocabularies read once.

    What a line is on its own is remembered per (language, text), since the lines that matter
    here are the ones that come back (CACHE_LIMIT entries, then it starts afresh)."""

    def __init__(self, config: GenericConfig | None = None) -> None:
        self.config = config or load_generic_config()
        self._seen: dict[tuple[str, str], tuple[bool, bool]] = {}

    def flags(self, texts: Sequence[str], lang: str, max_words: int, max_chars: int) -> list[bool]:
        """For each line (a document's kept lines, in order): whether it looks like boilerplate.
        Only lines of at most max_words words and max_chars characters are judged (longer lines
        never recur as boilerplate); the others are False."""
        if len(self._seen) > CACHE_LIMIT:
            self._seen.clear()
        alone = [self._alone(text, lang) if len(text) <= max_chars and len(text.split()) <= max_words else None
                 for text in texts]
        menu = _runs([a is not None and a[1] for a in alone])
        return [a is not None and (a[0] or in_menu) for a, in_menu in zip(alone, menu)]

    def _alone(self, text: str, lang: str) -> tuple[bool, bool]:
        """(boilerplate-shaped on its own, a menu item): neither for a sentence."""
        known = self._seen.get((lang, text))
        if known is None:
            f = features(text, frozenset(), self.config.vocabularies.get(lang) or _EMPTY)
            item = 0 < f.words <= MENU_ITEM_WORDS and _menu_item(text)
            known = (not f.terminal and self._worded(f, text), not f.terminal and item)
            self._seen[lang, text] = known
        return known

    def _worded(self, f: Features, text: str) -> bool:
        """Boilerplate vocabulary, link tokens, or "Home | News | Sport" separators (without
        digits: "400 | 2020-08-01 | 7.44" is a table row)."""
        crumbs = f.separators >= self.config.navigation_min_separators and not any(c.isdigit() for c in text)
        return f.listed or f.header or f.prefixed or f.byline or f.hits > 0 or crumbs


_EMPTY = Vocabulary("und", frozenset(), (), None, (), (), ())


def _runs(item: list[bool]) -> list[bool]:
    """Whether each line is one of at least MENU_RUN consecutive menu items."""
    out = [False] * len(item)
    start = 0
    for end in range(len(item) + 1):
        if end == len(item) or not item[end]:
            if end - start >= MENU_RUN:
                out[start:end] = [True] * (end - start)
            start = end + 1
    return out


def _menu_item(text: str) -> bool:
    words = text.split()
    return bool(words) and all(_MENU_WORD.fullmatch(w) for w in words) and not words[0][0].islower()
