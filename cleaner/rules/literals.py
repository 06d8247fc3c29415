"""Which literals a line must contain for a rule pattern to match it.

Most lines of a corpus meet line-rule patterns they cannot match, and a pattern like
`.*\\b(?:newsletter|rss)\\b.*\\b(?:abonnieren|erhalten)\\b.*` costs far more to reject a line
than a substring test does. So each pattern gets a *necessary literal set*, derived from its parse
tree: lowercase strings such that the pattern can fullmatch a line only if the line's lowercase
form contains one of them. A prefilter built on it may only skip a pattern that cannot match;
wherever the derivation is unsure (unparsed syntax, `regex`-only features, case folding that
`str.lower` does not mirror) it gives up and the pattern is always tried.

A literal is at least three characters long (shorter ones occur in almost every line), unless
it is made of symbols short lines seldom hold (`@`, `|`, `©`, `»`...): one of those filters as
well as a word does. A class of one letter's case forms (`[Vv]`) counts as that letter.

Case: `regex` with IGNORECASE lets a pattern's `s` match `ſ` and its `i` match `İ`, whose
lowercase forms do not contain `s` or `i`. Such characters are recorded as *voiding*: the
pattern is tried on every line containing one. `LiteralGate` answers, in one pass over a line,
which of many patterns' literal sets it satisfies.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from re import _constants as sre
from re import _parser as sre_parse

import ahocorasick
import regex

# Shorter literals occur in almost every line: they would cost a test and filter nothing...
MIN_LITERAL = 3
# ...unless they are symbols, other than the punctuation of dates, times, names and sentences.
_COMMON_SYMBOLS = frozenset(".,:;-'’/_")
# `str.lower` maps capital sigma by context (final or not): no literal may rely on it.
_CONTEXT_LOWERED = "Σ"
# A `{` that is not a repeat count means a fuzzy constraint to `regex` but a literal to `re`.
_BRACE = re.compile(r"(?<!\\)(?:\\\\)*\{(?!\d*,?\d*\})")
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
# Flags under which `regex` reads a pattern otherwise than `re` parses it: version 1 sets,
# full case folding (`ss` matching `ß`), verbose whitespace.
_OTHER_READINGS = regex.VERSION1 | regex.FULLCASE | regex.VERBOSE


@dataclass(frozen=True, slots=True)
class Literals:
    """A pattern's necessary literals: it can only match a line whose lowercase form contains
    one of `needles`, unless the line contains one of the `voiding` characters."""

    needles: frozenset[str]
    voiding: frozenset[str]

    def admits(self, line: str) -> bool:
        """Might the pattern match this line? False only when it certainly cannot."""
        if self.voiding and any(ch in line for ch in self.voiding):
            return True
        lowered = line.lower()
        return any(needle in lowered for needle in self.needles)


# What one node of the parse tree needs: a set of literals (one of them must occur) and the
# characters that void it; None when nothing can be promised.
_Need = tuple[frozenset[str], frozenset[str]] | None


def necessary_literals(pattern: regex.Pattern[str]) -> Literals | None:
    """The literals one of which every line this pattern fullmatches contains, or None when no
    safe set can be derived (the pattern must then always be tried)."""
    if not isinstance(pattern.pattern, str):
        return None
    return _derive(pattern.pattern, pattern.flags)


@lru_cache(maxsize=4096)
def _derive(source: str, pattern_flags: int) -> Literals | None:
    """Remembered: parsing costs ~0.5 ms a pattern, and each scope's index derives its rules' sets."""
    if _BRACE.search(source) or pattern_flags & _OTHER_READINGS:
        return None
    flags = re.IGNORECASE if pattern_flags & regex.IGNORECASE else 0
    try:
        with warnings.catch_warnings():
            # `re` warns where `regex` reads a nested set or set operation: they differ there.
            warnings.simplefilter("error")
            parsed = sre_parse.parse(source, flags)
    except (re.error, Warning, RecursionError, OverflowError, ValueError):
        return None
    if parsed.state.flags & (re.VERBOSE | re.LOCALE):
        return None
    need = _sequence(list(parsed), bool(parsed.state.flags & re.IGNORECASE))
    if need is None:
        return None
    return Literals(*need)


def _sequence(items: list[tuple[object, object]], icase: bool) -> _Need:
    """A sequence needs what any one of its parts needs: the most selective part is kept."""
    candidates: list[_Need] = []
    run: list[tuple[frozenset[str], bool]] = []
    for op, value in items:
        members = _literal_members(op, value)
        if members is not None:
            run.append((members, icase))
            continue
        candidates += _runs(run)
        run = []
        candidates.append(_node(op, value, icase))
    candidates += _runs(run)
    usable = [c for c in candidates if c is not None]
    if not usable:
        return None
    return max(usable, key=lambda need: (min(map(len, need[0])), -len(need[0]), sorted(need[0])))


def _node(op: object, value: object, icase: bool) -> _Need:
    if op is sre.SUBPATTERN:
        _group, add, remove, body = value  # type: ignore[misc]
        inner = (icase or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
        return _sequence(list(body), inner)
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(value), icase)  # type: ignore[call-overload]
    if op in _REPEATS:
        low, _high, body = value  # type: ignore[misc]
        return _sequence(list(body), icase) if low >= 1 else None
    if op is sre.BRANCH:
        return _union([_sequence(list(branch), icase) for branch in value[1]])  # type: ignore[index]
    if op is sre.IN:
        members = _class_members(value)
        if members is None:
            return None
        return _union([_single(_runs([(frozenset([ch]), icase)])) for ch in sorted(members)])
    return None  # other classes, any, anchors, lookarounds, backreferences, conditionals


def _literal_members(op: object, value: object) -> frozenset[str] | None:
    """The characters a literal, or a class of one letter's case forms (`[Vv]`), matches."""
    if op is sre.LITERAL:
        return frozenset([chr(value)])  # type: ignore[arg-type]
    if op is sre.IN:
        members = _class_members(value)
        if members is not None and len(members) > 1 and len({ch.lower() for ch in members}) == 1:
            return members
    return None


def _class_members(items: object) -> frozenset[str] | None:
    """The characters of a class listing them one by one (`[>›»]`); None for any other class."""
    found = set()
    for op, value in items:  # type: ignore[attr-defined]
        if op is not sre.LITERAL:
            return None  # a range, a category, a negation
        found.add(chr(value))
    return frozenset(found)


def _single(needs: list[_Need]) -> _Need:
    return needs[0] if needs else None


def _union(needs: list[_Need]) -> _Need:
    """An alternation needs one of its branches' literals; a branch without any voids it."""
    if not needs or any(need is None for need in needs):
        return None
    needles = frozenset().union(*(need[0] for need in needs if need))
    voiding = frozenset().union(*(need[1] for need in needs if need))
    # A line containing "letter" is admitted anyway, so "newsletter" adds nothing.
    needles = frozenset(n for n in needles if not any(o != n and o in n for o in needles))
    return needles, voiding


def _runs(run: list[tuple[frozenset[str], bool]]) -> list[_Need]:
    """Each stretch of safely lowercasable characters of a literal run, as a one-literal need."""
    found: list[_Need] = []
    piece: list[str] = []
    voiding: set[str] = set()
    for members, icase in [*run, (frozenset(), False)]:
        extra = _class_voiding(members, icase)
        if extra is not None:
            piece.append(next(iter(members)).lower())
            voiding |= extra
            continue
        if len(piece) >= MIN_LITERAL or (piece and all(_symbol(ch) for ch in piece)):
            found.append((frozenset(["".join(piece)]), frozenset(voiding)))
        piece, voiding = [], set()
    return found


def _symbol(ch: str) -> bool:
    """Is this a character short lines seldom hold, so that alone it still filters?"""
    return not (ch.isalnum() or ch.isspace() or ch in _COMMON_SYMBOLS)


def _class_voiding(members: frozenset[str], icase: bool) -> frozenset[str] | None:
    """The line characters that void a literal containing this position (one character, or one
    letter's case forms: see `_literal_members`), or None if it cannot be part of a literal."""
    if not members:
        return None  # the end of the run
    voiding: set[str] = set()
    for ch in members:
        extra = _voiding(ch, icase)
        if extra is None:
            return None
        voiding |= extra
    return frozenset(voiding)


def _voiding(ch: str, icase: bool) -> frozenset[str] | None:
    """The line characters that void a literal containing `ch`, or None if `ch` cannot be part
    of a literal (its lowercase form is not one character, or depends on context)."""
    if len(ch.lower()) != 1 or ch == _CONTEXT_LOWERED:
        return None
    if not icase:
        return frozenset()
    matched = case_class(ch)
    if _CONTEXT_LOWERED in matched:
        return None
    return frozenset(other for other in matched if other.lower() != ch.lower())


CASED_PLANES_END = 0x20000  # no character at or above this code point has a case


@cache
def case_class(ch: str) -> frozenset[str]:
    """Every character a case-insensitive `regex` pattern `ch` matches, found by asking `regex`
    itself: its case tables are its own, not `str.lower`'s. Cased characters all lie in Unicode's
    first two planes (tests/test_rule_literals.py checks this against `regex`'s own tables), so
    only those are asked: a fifth of the code points, read once per character instead of 1.1M."""
    return frozenset(regex.compile(regex.escape(ch), regex.IGNORECASE | regex.VERSION0).findall(_cased_planes())) | {ch}


@lru_cache(maxsize=1)
def _cased_planes() -> str:
    return "".join(map(chr, range(CASED_PLANES_END)))


class LiteralGate:
    """Which of many literal sets a line satisfies, found in one pass over the line.

    All needles go into one Aho-Corasick automaton (pyahocorasick, in C), which reads the line
    once whatever the number of needles and reports every occurrence, overlapping ones too.
    """

    def __init__(self, sets: list[Literals]) -> None:
        owners: dict[str, list[int]] = {}
        self._voiding: dict[str, list[int]] = {}
        for number, literals in enumerate(sets):
            for needle in sorted(literals.needles):
                owners.setdefault(needle, []).append(number)
            for ch in sorted(literals.voiding):
                self._voiding.setdefault(ch, []).append(number)
        self._automaton: ahocorasick.Automaton | None = None
        if owners:
            self._automaton = ahocorasick.Automaton()
            for needle, numbers in owners.items():
                self._automaton.add_word(needle, tuple(numbers))
            self._automaton.make_automaton()

    def admitted(self, line: str) -> list[int]:
        """The numbers (in `sets`) of the literal sets this line might satisfy, in order: every
        set whose pattern could match the line is among them."""
        if self._automaton is None:
            return []
        found = [numbers for _, numbers in self._automaton.iter(line.lower())]
        if not found and not any(ch in line for ch in self._voiding):
            return []  # the common case: no literal, nothing to void
        hits: set[int] = set()
        for numbers in found:
            hits.update(numbers)
        for ch, owners in self._voiding.items():
            if ch in line:
                hits.update(owners)
        return sorted(hits)
