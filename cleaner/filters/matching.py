"""Which line rules claim a line: the plain meaning of a rule, and the fast index that must agree.

`PlainMatcher` applies each line rule as `LineTest` defines it (guards, then text), rule by
rule. `LineIndex` answers the same question for a whole scope at once, cheaply enough that
every line of a corpus can ask it; `StartIndex` finds where block and tail rules start. Every
shortcut they take is one the pipeline benchmark showed to pay (see each one's comment), and
tests/test_matching.py checks LineIndex against PlainMatcher on generated packs and texts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import regex

from cleaner.document import Cleaned
from cleaner.rules.literals import LiteralGate, necessary_literals
from cleaner.rules.model import Rule, normalise_phrase

# What each shortcut below costs and saves was measured by removing it and timing phase 1 on
# the pipeline benchmark's 8 MB text corpus (benchmarks/pipeline_corpus.py; whole pipeline about
# 3.3 CPU s there, phase 1 about 2 s), on a host shared with other work (about +-5% noise).
# Kept only where removing it cost at least 3% of the whole pipeline:
# - the literal prefilter (cleaner.rules.literals, LiteralHits): +0.2 to +0.9 s without it;
# - the verdict memory (Verdicts): +0.4 to +0.8 s without it;
# - the word-count buckets: with no buckets and no alternation, up to +0.2 s. (Dropped: the
#   combined alternation per bucket, whose winner was read back from rewritten group names, and
#   the caches of compiled alternations and of block/tail starts: within the noise.)
# Lower bounds of the word-count buckets lines are matched in (see LineIndex). Costs a dict per
# index of the buckets met; saves trying the patterns a line's length rules out.
_WORD_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 25, 30, 40, 50, 60, 80, 100, 150)
# Line verdicts remembered per index (see LineIndex.first); lines here are short, so ~30 MB at most.
_VERDICT_CACHE_SIZE = 100_000
_UNSEEN = object()  # no verdict remembered (None is a verdict: no rule claims the line)
K = TypeVar("K")
V = TypeVar("V")
_LEAD = re.compile(r"[^\W_]*")  # str.isalnum() characters: \w without the underscore


@dataclass(slots=True)
class LineView:
    """What the passes need of one non-blank line, computed once per document."""

    index: int  # into Cleaned.lines
    stripped: str
    normalised: str
    words: int
    rank_top: int
    rank_bottom: int


Heads = list[tuple[int, "regex.Match[str] | bool"]]  # (position in views, match), ascending


class Verdicts(Generic[K, V]):
    """Verdicts on line texts, remembered: boilerplate is the text that recurs, so a recurring
    line costs a dict lookup instead of its regexes (about 20% of the benchmark's pipeline). Bounded (cleared when full: crude, but O(1)
    on average, and recurring lines come back at once). A verdict reached while a pattern timed
    out is not remembered: the next occurrence tries again."""

    def __init__(self) -> None:
        self._memo: dict[K, V] = {}

    def get(self, key: K, cleaned: Cleaned, judge: Callable[..., V], *args: object) -> V:
        """The verdict for `key`, from memory or from `judge(*args, cleaned)`."""
        verdict = self._memo.get(key, _UNSEEN)
        if verdict is not _UNSEEN:
            return verdict  # type: ignore[return-value]
        timeouts = sum(cleaned.rule_timeouts.values())
        verdict = judge(*args, cleaned)
        if sum(cleaned.rule_timeouts.values()) == timeouts:
            if len(self._memo) >= _VERDICT_CACHE_SIZE:
                self._memo.clear()
            self._memo[key] = verdict
        return verdict


class PlainMatcher:
    """The meaning of the line rules, as plainly as it can be said: each rule in precedence
    order, its guards (`LineTest.guards_pass`) and then its text (`LineTest.match_text`) tried on
    the line. `LineIndex` must claim exactly what this claims (tests/test_matching.py)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = [r for r in rules if r.kind == "line" and r.test is not None]

    def first(self, view: LineView, cleaned: Cleaned) -> tuple[Rule, regex.Match[str] | bool] | None:
        """The earliest rule that claims this line, with its match."""
        normalised = normalise_phrase(view.stripped)
        for rule in self.rules:
            assert rule.test is not None
            if rule.test.guards_pass(view.words, view.rank_top, view.rank_bottom):
                found = matches_text(rule, LineView(view.index, view.stripped, normalised, view.words, 0, 0), cleaned)
                if found:
                    return rule, found
        return None


class LineIndex:
    """Every line rule of one scope, compiled into lookups that cost little per line.

    Phrases and prefixes become dict lookups (see TextLookup). Regexes are grouped per
    (word-count bucket, near an edge or not): a line only meets the patterns whose
    `max_words`/`min_words` admit its length and, away from the top and bottom of the document,
    only patterns without position guards. Prose lines, the bulk of any corpus, are long and in
    the middle, so they meet few patterns however large the packs grow.

    Patterns with necessary literals (see cleaner.rules.literals) are tried only on lines
    containing one of their literals, which most lines do not.
    `literals` finds those lines (shared by the indexes of one rule set; by default the index's
    own); `prefilter=False` tries every pattern, the reference the prefilter is checked against.
    """

    def __init__(self, rules: Iterable[Rule], literals: LiteralHits | None = None, *, prefilter: bool = True) -> None:
        self.rules = [r for r in rules if r.kind == "line" and r.test is not None]
        self.order = {r.id: i for i, r in enumerate(self.rules)}
        self.texts = TextLookup(self.rules)
        self.patterned = [r for r in self.rules if r.test is not None and r.test.pattern is not None]
        self.max_words = max((r.test.max_words or 0 for r in self.rules if r.test), default=0)
        self.edge_top = max((r.test.within_top or 0 for r in self.patterned if r.test), default=0)
        self.edge_bottom = max((r.test.within_bottom or 0 for r in self.patterned if r.test), default=0)
        # Beyond every rule's position window, a line's rank no longer changes what matches it.
        self._top_window = max((r.test.within_top or 0 for r in self.rules if r.test), default=0)
        self._bottom_window = max((r.test.within_bottom or 0 for r in self.rules if r.test), default=0)
        self._verdicts: Verdicts[tuple[str, int, int], tuple[Rule, regex.Match[str] | bool] | None] = Verdicts()
        # A pattern with necessary literals is only tried on lines containing one of them.
        self._literal_hits = (literals or LiteralHits(self.rules)) if prefilter else None
        self._filtered = {r.id for r in self.patterned if self._literal_hits is not None and r.id in self._literal_hits}
        self._buckets: dict[tuple[int, bool], _Bucket] = {}

    def _bucket(self, words: int, near_edge: bool) -> _Bucket:
        bucket = bisect.bisect_right(_WORD_BUCKETS, words) - 1
        key = (bucket, near_edge)
        found = self._buckets.get(key)
        if found is None:
            low = _WORD_BUCKETS[bucket]
            high = _WORD_BUCKETS[bucket + 1] - 1 if bucket + 1 < len(_WORD_BUCKETS) else None
            positions = [i for i, r in enumerate(self.patterned) if r.test is not None
                         and (r.test.max_words is None or r.test.max_words >= low)
                         and (r.test.min_words is None or high is None or r.test.min_words <= high)
                         and (near_edge or (r.test.within_top is None and r.test.within_bottom is None))]
            plain = [i for i in positions if self.patterned[i].id not in self._filtered]
            filtered = {self.patterned[i].id: i for i in positions if self.patterned[i].id in self._filtered}
            found = self._buckets[key] = _Bucket(plain, filtered)
        return found

    def first(self, view: LineView, cleaned: Cleaned) -> tuple[Rule, regex.Match[str] | bool] | None:
        """The earliest rule (in precedence order) that claims this line, with its match.

        The verdict is remembered (see Verdicts), keyed by everything it depends on: the line's
        text and its rank clipped to the widest position window.
        """
        if view.words > self.max_words:
            return None  # prose: longer than any line rule accepts
        key = (view.stripped, min(view.rank_top, self._top_window), min(view.rank_bottom, self._bottom_window))
        return self._verdicts.get(key, cleaned, self._first, view)

    def _first(self, view: LineView, cleaned: Cleaned) -> tuple[Rule, regex.Match[str] | bool] | None:
        best: tuple[Rule, regex.Match[str] | bool] | None = None
        for rule in self.texts.candidates(view.normalised):
            if best is None or self.order[rule.id] < self.order[best[0].id]:
                found = matches(rule, view, cleaned)
                if found:
                    best = (rule, found)
        near_edge = view.rank_top < self.edge_top or view.rank_bottom < self.edge_bottom
        bucket = self._bucket(view.words, near_edge)
        positions = bucket.plain
        admitted = bucket.admitted(self._literal_hits.admitted(view.stripped)) if bucket.filtered else []  # type: ignore[union-attr]
        if admitted:
            positions = sorted([*positions, *admitted])
        for position in positions:
            rule = self.patterned[position]
            if best is not None and self.order[rule.id] >= self.order[best[0].id]:
                break  # patterns are in precedence order: none of the rest can win
            found = matches(rule, view, cleaned)
            if found:
                return rule, found
        return best


@dataclass(frozen=True, slots=True)
class _Bucket:
    """The patterns one word-count bucket (near an edge or not) meets: `plain` ones are tried
    on every line, `filtered` ones only on lines holding one of their literals."""

    plain: list[int]  # positions in LineIndex.patterned, in precedence order
    filtered: dict[str, int]  # rule id -> position in LineIndex.patterned

    def admitted(self, rule_ids: frozenset[str]) -> list[int]:
        """The filtered patterns that might match a line holding literals of these rules."""
        return sorted(self.filtered[rule_id] for rule_id in rule_ids if rule_id in self.filtered)


class StartIndex:
    """The block headers and tail markers of a rule set, found in one pass over a document.

    Any line may be a header or a marker, so rather than testing every block and tail rule on
    every line, a line's text is tested once against all of them (phrases by lookup, prefixes by
    their leading word, patterns only on lines holding one of their necessary literals) and the
    verdict is remembered per text (see Verdicts); only the guards, which depend on the line's
    position, are checked per line.
    """

    def __init__(self, rules: Iterable[Rule], literals: LiteralHits) -> None:
        self.rules = [r for r in rules if r.kind in ("block", "tail") and r.test is not None]
        self._texts = TextLookup(self.rules)
        # Patterns are tried only on lines their word guards admit and, when they have
        # necessary literals, only on lines holding one (see LiteralHits).
        self._literal_hits = literals
        patterned = [r for r in self.rules if r.test is not None and r.test.pattern is not None]
        self._unfiltered = [rule for rule in patterned if rule.id not in self._literal_hits]
        self._filtered = {rule.id: rule for rule in patterned if rule.id in self._literal_hits}
        self._verdicts: Verdicts[str, tuple[tuple[Rule, regex.Match[str] | bool], ...]] = Verdicts()
        # Headers and markers are short: prose, the bulk of the lines, is longer than any accepts.
        limits = [r.test.max_words for r in self.rules if r.test is not None]
        self._max_words = max(limits) if limits and None not in limits else None

    def heads(self, views: list[LineView], cleaned: Cleaned) -> dict[str, Heads]:
        """For each rule id: the positions in `views` where that rule starts, with the match."""
        found: dict[str, Heads] = {}
        for position, view in enumerate(views):
            if self._max_words is not None and view.words > self._max_words:
                continue
            for rule, match in self._verdicts.get(view.stripped, cleaned, self._text_hits, view):
                assert rule.test is not None
                if rule.test.guards_pass(view.words, view.rank_top, view.rank_bottom):
                    found.setdefault(rule.id, []).append((position, match))
        return found

    def _text_hits(self, view: LineView, cleaned: Cleaned) -> tuple[tuple[Rule, regex.Match[str] | bool], ...]:
        candidates = {rule.id for rule in self._texts.candidates(view.normalised)}
        admitted = [self._filtered[rule_id] for rule_id in self._literal_hits.admitted(view.stripped)
                    if rule_id in self._filtered]
        for rule in [*self._unfiltered, *admitted]:
            assert rule.test is not None
            # Rank 0 passes every position guard: only the word guards (a function of the text) count here.
            if rule.test.guards_pass(view.words, 0, 0):
                candidates.add(rule.id)
        if not candidates:
            return ()
        hits = []
        for rule in self.rules:
            if rule.id in candidates and (match := matches_text(rule, view, cleaned)):
                hits.append((rule, match))
        return tuple(hits)


class LiteralHits:
    """Which rule patterns' necessary literals a line holds (see cleaner.rules.literals), for
    every pattern of a rule set at once, remembered per line text. The prefilter saves 7-25% of
    the benchmark's pipeline; what remembering its answer adds was within the noise (-5% to +12%
    of the pipeline when removed), kept as the cheap half of the verdict memory.

    A document meets two to four indexes (line and start rules, language-neutral and language
    packs), all asking this of the same lines: one gate over the whole rule set answers it once
    per text, and each index keeps the rules it holds.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        patterned = [(rule.id, literals) for rule in rules if rule.test is not None and rule.test.pattern is not None
                     and (literals := necessary_literals(rule.test.pattern)) is not None]
        self._ids = [rule_id for rule_id, _ in patterned]  # in the gate's order
        self._filtered = frozenset(self._ids)
        self._gate = LiteralGate([literals for _, literals in patterned])
        self._memo: dict[str, frozenset[str]] = {}

    def __contains__(self, rule_id: str) -> bool:
        """Is this rule's pattern filtered by its literals (rather than tried on every line)?"""
        return rule_id in self._filtered

    def admitted(self, text: str) -> frozenset[str]:
        """The ids of the filtered rules whose patterns might match this line (no other can)."""
        found = self._memo.get(text)
        if found is None:
            if len(self._memo) >= _VERDICT_CACHE_SIZE:
                self._memo.clear()
            ids = self._ids
            found = self._memo[text] = frozenset(ids[number] for number in self._gate.admitted(text))
        return found


class TextLookup:
    """The rules whose phrases or prefixes might claim a line, found by two dict lookups on its
    normalised text instead of a test per rule. A candidate still has to pass `match_text`."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._phrases: dict[str, list[Rule]] = {}
        self._prefixes: dict[str, list[Rule]] = {}
        for rule in rules:
            assert rule.test is not None
            for phrase in rule.test.phrases:
                self._phrases.setdefault(phrase, []).append(rule)
            for prefix in rule.test.prefixes:
                self._prefixes.setdefault(_lead(prefix), []).append(rule)

    def candidates(self, normalised: str) -> tuple[Rule, ...]:
        return (*self._phrases.get(normalised, ()), *self._prefixes.get(_lead(normalised), ()))


def _lead(text: str) -> str:
    """The letters and digits a text starts with: what a prefix and every line it matches share
    (a prefix matches where the line goes on with a character that is not a letter or digit)."""
    return _LEAD.match(text).group()  # type: ignore[union-attr]  # matches every text, maybe empty


def matches(rule: Rule, view: LineView, cleaned: Cleaned) -> regex.Match[str] | bool:
    """Does this rule's line test accept the line? A pattern that times out counts as no."""
    assert rule.test is not None
    if not rule.test.guards_pass(view.words, view.rank_top, view.rank_bottom):
        return False
    return matches_text(rule, view, cleaned)


def matches_text(rule: Rule, view: LineView, cleaned: Cleaned) -> regex.Match[str] | bool:
    """The text part of `matches`, without the length and position guards."""
    assert rule.test is not None
    try:
        return rule.test.match_text(view.stripped, view.normalised)
    except TimeoutError:
        cleaned.rule_timeouts[rule.id] = cleaned.rule_timeouts.get(rule.id, 0) + 1
        return False
