"""Apply rule packs to a document: each rule hit claims lines, with its rule id and category.

Rules run in four passes, each seeing what earlier passes claimed (the first claim on a line wins,
so the most specific explanation is the one recorded):
  1. line   - whole-line phrases, prefixes and regexes, through one combined index per scope;
  2. block  - a header line and the run of short, unpunctuated items under it;
  3. repeat - a line repeating a nearby earlier kept line (a doubled title);
  4. tail   - a marker line and everything after it, but only when what follows is short
              boilerplate-shaped text or already claimed, never a long content paragraph.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import attrgetter
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import regex

from cleaner.document import Claim, Cleaned
from cleaner.rules.literals import LiteralGate, necessary_literals
from cleaner.rules.loader import DEFAULT_MAX_WORDS, RuleSet
from cleaner.rules.model import MATCH_TIMEOUT, Rule, Scope, ends_like_sentence, normalise_words

PASSES = ("line", "block", "repeat", "tail")
# Lower bounds of the word-count buckets lines are matched in (see LineIndex).
_WORD_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 25, 30, 40, 50, 60, 80, 100, 150)
# Plans (with their compiled indexes) kept per worker, one per distinct list of applicable rules.
_PLAN_CACHE_SIZE = 64
# Line verdicts remembered per index (see LineIndex.first); lines here are short, so ~30 MB at most.
_VERDICT_CACHE_SIZE = 100_000
_UNSEEN = object()  # no verdict remembered (None is a verdict: no rule claims the line)
K = TypeVar("K")
V = TypeVar("V")
_HEADING_CONTENT_WORDS = 10
_GROUP_NAME = re.compile(r"\(\?P<(\w+)>")
_GROUP_REF = re.compile(r"\(\?P=(\w+)\)")
_RULE_ID = attrgetter("id")
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
    line costs a dict lookup instead of its regexes. Bounded (cleared when full: crude, but O(1)
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


class LineIndex:
    """Every line rule of one scope, compiled into lookups that cost little per line.

    Phrases and prefixes become dict lookups (see TextLookup). Regexes become one
    alternation per (word-count bucket, near an edge or not): a line only meets the patterns
    whose `max_words`/`min_words` admit its length and, away from the top and bottom of the
    document, only patterns without position guards. Prose lines, the bulk of any corpus, are
    long and in the middle, so they meet few patterns however large the packs grow.

    Patterns with necessary literals (see cleaner.rules.literals) stay out of the alternation:
    they are tried only on lines containing one of their literals, which most lines do not.
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
            # Even two or three patterns are cheaper in one alternation (one call per line that
            # none matches) than tried one by one; a single one is tried as it is.
            combined = _combine([(i, self.patterned[i]) for i in plain]) if len(plain) > 1 else None
            found = self._buckets[key] = _Bucket(plain, combined, filtered)
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
                found = _matches(rule, view, cleaned)
                if found:
                    best = (rule, found)
        near_edge = view.rank_top < self.edge_top or view.rank_bottom < self.edge_bottom
        bucket = self._bucket(view.words, near_edge)
        positions = bucket.plain
        if bucket.combined is not None:
            try:
                hit = bucket.combined.fullmatch(view.stripped, timeout=MATCH_TIMEOUT)
            except TimeoutError:
                hit = None  # find the slow rule below, one pattern at a time, each under its timeout
            else:
                # The alternation names the first pattern that matches; later ones are only
                # needed when that one's guards reject the line.
                positions = positions[positions.index(int(hit.lastgroup[2:])):] if hit else []  # type: ignore[index]
        admitted = bucket.admitted(self._literal_hits.admitted(view.stripped)) if bucket.filtered else []  # type: ignore[union-attr]
        if admitted:
            positions = sorted([*positions, *admitted])
        for position in positions:
            rule = self.patterned[position]
            if best is not None and self.order[rule.id] >= self.order[best[0].id]:
                break  # patterns are in precedence order: none of the rest can win
            found = _matches(rule, view, cleaned)
            if found:
                return rule, found
        return best


@dataclass(frozen=True, slots=True)
class _Bucket:
    """The patterns one word-count bucket (near an edge or not) meets, split by how they are
    skipped: `plain` ones through one combined alternation, `filtered` ones by their literals."""

    plain: list[int]  # positions in LineIndex.patterned, in precedence order
    combined: regex.Pattern[str] | None  # over `plain`, when there are two or more
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
            if rule.id in candidates and (match := _matches_text(rule, view, cleaned)):
                hits.append((rule, match))
        return tuple(hits)


class LiteralHits:
    """Which rule patterns' necessary literals a line holds (see cleaner.rules.literals), for
    every pattern of a rule set at once, remembered per line text.

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


def _combine(rules: list[tuple[int, Rule]]) -> regex.Pattern[str] | None:
    """One alternation over many rule regexes; group `_rN` names the N-th patterned rule.

    Named groups inside rule patterns are renamed per rule so two rules may both capture
    `author`; extraction re-runs the winning rule's own pattern.
    """
    if not rules:
        return None
    branches = []
    for position, rule in rules:
        assert rule.test is not None and rule.test.pattern is not None
        source = rule.test.pattern.pattern
        source = _GROUP_NAME.sub(lambda m, n=position: f"(?P<_r{n}_{m.group(1)}>", source)
        source = _GROUP_REF.sub(lambda m, n=position: f"(?P=_r{n}_{m.group(1)})", source)
        flags = "i" if rule.test.pattern.flags & regex.IGNORECASE else "-i"
        branches.append(f"(?P<_r{position}>(?{flags}:{source}))")
    return _compile("|".join(branches))


@lru_cache(maxsize=_PLAN_CACHE_SIZE * 4)
def _compile(source: str) -> regex.Pattern[str]:
    """Compiling a large alternation costs milliseconds, and neighbouring word-count buckets and
    scopes often hold the same patterns: compile each distinct alternation once per process."""
    return regex.compile(source)


class RuleFilter:
    """Strips boilerplate from documents with one loaded RuleSet; counts what each rule removed."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._plans: OrderedDict[tuple[str, ...], _Plan] = OrderedDict()
        self._literal_hits = LiteralHits(ruleset.rules)
        # Where a rule's block or tail starts depends on that rule and the lines alone, so one
        # index of every block and tail rule finds them for all the passes over a document.
        self._starts = StartIndex(ruleset.rules, self._literal_hits)
        self._heads_of: tuple[list[LineView], dict[str, Heads]] | None = None
        self._precedence = {rule.id: position for position, rule in enumerate(ruleset.rules)}
        # Rules share a handful of scopes; each scope is judged once per document, not per rule.
        self._scopes: dict[Scope, list[int]] = {}
        for position, rule in enumerate(ruleset.rules):
            self._scopes.setdefault(rule.scope, []).append(position)

    def apply_context(self, cleaned: Cleaned, rules: list[Rule], views: list[LineView], rounds: int = 4) -> None:
        """Apply the rules that judge a line by the lines around it (block, tail, repeat), then
        settle positions, and again while a pass whose claims can change them claimed more.

        These rules pass over claimed lines as if they were gone, but a line claimed after they
        ran was still there for them, and the clean text, cleaned again, would show them its
        absence: a title repeated two lines below its first copy once a date between them is
        gone, a comment footer within its limits once a later footer is gone. A block claims its
        header, so a second cleaning cannot find it again, unless the header had fewer items
        than the rule's `min_items` and stayed: only then do block claims start another round
        (otherwise every document with a teaser list would pay for one).
        """
        if not views:
            return
        plan = self._plan(rules)  # looked up once for every pass of every round
        claims = cleaned.claims
        # The passes whose claims start another round; blocks run first either way.
        watched = ("block", "tail", "repeat") if plan.headers_may_stay else ("tail", "repeat")
        for _ in range(rounds):
            if "block" not in watched:
                self._apply_plan(cleaned, plan, ("block",), views)
            unclaimed = claims.count(None)
            self._apply_plan(cleaned, plan, watched, views)
            self._settle_positions(cleaned, plan, views)
            if claims.count(None) == unclaimed:
                return

    def _settle_positions(self, cleaned: Cleaned, plan: _Plan, views: list[LineView], rounds: int = 4) -> None:
        """Re-run the position-guarded rules with positions counted among the lines still kept,
        until nothing changes: "among the first 6 lines" must mean the first 6 lines of the text
        a reader is left with, or a second cleaning pass over the output would remove more."""
        settling = plan.settling
        if settling is None:
            return
        claims = cleaned.claims
        for _ in range(rounds):
            unclaimed = claims.count(None)
            tops, last = _ranks(views, cleaned)
            # Only a kept line whose position moved into a guarded window can now match.
            moved = [position for position, (view, top) in enumerate(zip(views, tops)) if claims[view.index] is None and (
                (top < settling.top and top != view.rank_top)
                or (last - top < settling.bottom and last - top != view.rank_bottom))]
            if not moved:
                return
            # Line rules judge each line alone: only the moved ones need their new positions.
            self.apply(cleaned, settling.line_rules, ("line",), [_moved(views[p], tops[p], last) for p in moved])
            if settling.context_rules:
                views = [_moved(view, top, last) for view, top in zip(views, tops)]
                self.apply(cleaned, settling.context_rules, PASSES, views)
            if claims.count(None) == unclaimed:
                return

    def in_precedence(self, rules: list[Rule]) -> list[Rule]:
        return sorted(rules, key=lambda rule: self._precedence[rule.id])

    def applicable(self, cleaned: Cleaned, lang: str | None, *, only_language_rules: bool | None = None) -> list[Rule]:
        """Rules whose scope selects this document; `lang=None` means the language is unknown.

        `only_language_rules` picks the language-scoped rules (True) or the others (False).
        """
        doc = cleaned.document
        url = doc.source.url or doc.meta.get("url")
        host = (urlsplit(url).hostname or "").lower() if isinstance(url, str) else None
        positions: list[int] = []
        for scope, members in self._scopes.items():
            if ((only_language_rules is None or bool(scope.languages) == only_language_rules)
                    and scope.applies(lang, doc.source.path, host, doc.text)):
                positions += members
        rules = self.ruleset.rules
        return [rules[i] for i in sorted(positions)]

    def apply(self, cleaned: Cleaned, rules: list[Rule], passes: tuple[str, ...] = PASSES,
              views: list[LineView] | None = None) -> None:
        """Claim every line these rules remove, and record what they extract.

        `passes` runs only some of the kinds, so a caller can run the line and block rules of
        several rule sets before the context-dependent repeat and tail rules of all of them;
        such a caller computes the document's `views` once and passes them to every call.
        """
        views = line_views(cleaned) if views is None else views
        if views:
            self._apply_plan(cleaned, self._plan(rules), passes, views)

    def _apply_plan(self, cleaned: Cleaned, plan: _Plan, passes: tuple[str, ...], views: list[LineView]) -> None:
        if "line" in passes and plan.index.rules:
            first = plan.index.first
            for view in views:
                hit = first(view, cleaned)
                if hit is not None and cleaned.claim(view.index, plan.claims[hit[0].id]):
                    _extract(cleaned, hit[0], view.stripped, hit[1])
        starting = [(plan.kinds[kind], apply_rule) for kind, apply_rule in (("block", _apply_block), ("tail", _apply_tail))
                    if kind in passes and plan.kinds[kind]]
        if starting:
            heads = self._heads(views, cleaned)
            for kind_rules, apply_rule in starting:
                for rule in kind_rules:
                    if rule.id in heads:
                        apply_rule(cleaned, rule, plan.claims[rule.id], views, heads[rule.id])
        if "repeat" in passes:
            for rule in plan.kinds["repeat"]:
                _apply_repeat(cleaned, rule, plan.claims[rule.id], views)

    def _heads(self, views: list[LineView], cleaned: Cleaned) -> dict[str, Heads]:
        """Where each block and tail rule starts among these views, found once per list of
        views (a document's passes share one; settling positions makes a new one)."""
        if self._heads_of is None or self._heads_of[0] is not views:
            self._heads_of = (views, self._starts.heads(views, cleaned))
        return self._heads_of[1]

    def _plan(self, rules: list[Rule]) -> _Plan:
        """The plan of these rules (one scope's), from a small LRU cache: corpora mixing many
        sites would otherwise keep one per site combination forever."""
        key = tuple(map(_RULE_ID, rules))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(rules, self._literal_hits)
            if len(self._plans) > _PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan


class _Plan:
    """What the passes need of one list of rules, worked out once per list instead of once per
    document: documents of one site and language meet the same lists again and again."""

    def __init__(self, rules: list[Rule], literals: LiteralHits) -> None:
        self.index = LineIndex(rules, literals)
        # Claims are immutable: one per rule serves every line it removes.
        self.claims = {rule.id: Claim(rule.id, rule.category) for rule in rules}
        self.kinds = {kind: [rule for rule in rules if rule.kind == kind] for kind in ("block", "tail", "repeat")}
        self.headers_may_stay = any(rule.min_items for rule in self.kinds["block"])  # see apply_context
        positional = [r for r in rules if r.test is not None
                      and (r.test.within_top is not None or r.test.within_bottom is not None)]
        self.settling = _Settling(
            top=max(r.test.within_top or 0 for r in positional if r.test),
            bottom=max(r.test.within_bottom or 0 for r in positional if r.test),
            line_rules=[r for r in positional if r.kind == "line"],
            context_rules=[r for r in positional if r.kind != "line"],
        ) if positional else None


@dataclass(frozen=True, slots=True)
class _Settling:
    """The position-guarded rules of a list, and the widest windows they look at."""

    top: int
    bottom: int
    line_rules: list[Rule]
    context_rules: list[Rule]


def line_views(cleaned: Cleaned) -> list[LineView]:
    """What the rules look at in each non-blank line; valid for the document's whole life.

    Positions (`rank_top`, `rank_bottom`) count the lines still kept, so that a position guard
    means the same on a dump as on its cleaned text (see `RuleFilter._settle_positions`). Lines
    longer than any rule accepts (see DEFAULT_MAX_WORDS) are not normalised: no phrase or prefix
    can claim them.
    """
    views = []
    for i, line in enumerate(cleaned.lines):
        words = line.text.split()  # none: a blank line
        if words:
            normalised = normalise_words(words) if len(words) <= DEFAULT_MAX_WORDS else ""
            views.append(LineView(i, line.text.strip(), normalised, len(words), 0, 0))
    tops, last = _ranks(views, cleaned)
    for view, top in zip(views, tops):
        view.rank_top, view.rank_bottom = top, last - top
    return views


def _ranks(views: list[LineView], cleaned: Cleaned) -> tuple[list[int], int]:
    """Positions counted among the lines still kept: each view's from the top, and the last
    one's (a view's position from the bottom is `last - top`)."""
    kept = [cleaned.claims[view.index] is None for view in views]
    return list(accumulate(kept, initial=0))[:-1], sum(kept) - 1


def _moved(view: LineView, top: int, last: int) -> LineView:
    """The view at its position among the lines kept now."""
    return LineView(view.index, view.stripped, view.normalised, view.words, top, last - top)


def _matches(rule: Rule, view: LineView, cleaned: Cleaned) -> regex.Match[str] | bool:
    """Does this rule's line test accept the line? A pattern that times out counts as no."""
    assert rule.test is not None
    if not rule.test.guards_pass(view.words, view.rank_top, view.rank_bottom):
        return False
    return _matches_text(rule, view, cleaned)


def _matches_text(rule: Rule, view: LineView, cleaned: Cleaned) -> regex.Match[str] | bool:
    """The text part of `_matches`, without the length and position guards."""
    assert rule.test is not None
    try:
        return rule.test.match_text(view.stripped, view.normalised)
    except TimeoutError:
        cleaned.rule_timeouts[rule.id] = cleaned.rule_timeouts.get(rule.id, 0) + 1
        return False


def _is_content(view: LineView) -> bool:
    """A paragraph that reads as prose: long enough and ending like a sentence."""
    return view.words >= _HEADING_CONTENT_WORDS and ends_like_sentence(view.stripped)


def _apply_block(cleaned: Cleaned, rule: Rule, claim: Claim, views: list[LineView], heads: Heads) -> None:
    position = 0  # the first line a block may still start at
    for start, found in heads:
        if start < position:
            continue  # inside the block just claimed
        header = views[start]
        items: list[LineView] = []
        seen = 0
        following = start + 1
        while following < len(views) and seen < rule.max_items:
            view = views[following]
            if cleaned.claims[view.index] is not None:
                seen += 1
            elif _is_item(rule, view, cleaned):
                items.append(view)
                seen += 1
            else:
                break
            following += 1
        # A short line directly above prose is that prose's heading, not a list item (unless the
        # rule says exactly what its items look like).
        if (rule.item_pattern is None and items and following < len(views)
                and items[-1] is views[following - 1] and _is_content(views[following])):
            items.pop()
            following -= 1  # that heading may itself start a block (a header right above prose)
        if len(items) < rule.min_items:
            continue
        if cleaned.claim(header.index, claim):
            _extract(cleaned, rule, header.stripped, found)
        for view in items:
            cleaned.claim(view.index, claim)
        position = following


def _is_item(rule: Rule, view: LineView, cleaned: Cleaned) -> bool:
    if rule.item_pattern is not None:
        try:
            return bool(rule.item_pattern.fullmatch(view.stripped, timeout=MATCH_TIMEOUT))
        except TimeoutError:
            cleaned.rule_timeouts[rule.id] = cleaned.rule_timeouts.get(rule.id, 0) + 1
            return False
    return view.words <= rule.item_max_words and not ends_like_sentence(view.stripped)


def _apply_repeat(cleaned: Cleaned, rule: Rule, claim: Claim, views: list[LineView]) -> None:
    max_words = rule.test.max_words if rule.test is not None else None
    recent: list[str] = []
    for view in views:
        if cleaned.claims[view.index] is not None:
            continue
        if (len(view.stripped) >= rule.min_chars and (max_words is None or view.words <= max_words)
                and view.normalised in recent):
            cleaned.claim(view.index, claim)
            continue
        recent.append(view.normalised)
        if len(recent) > rule.window:
            recent.pop(0)


def _apply_tail(cleaned: Cleaned, rule: Rule, claim: Claim, views: list[LineView], heads: Heads) -> None:
    for position, found in heads:
        marker = views[position]
        rest = [v for v in views[position + 1:] if cleaned.claims[v.index] is None]
        if (len(rest) <= rule.tail_max_lines
                and all(v.words <= rule.tail_max_words for v in rest)
                and sum(len(v.stripped) for v in rest) <= rule.tail_max_chars):
            if cleaned.claim(marker.index, claim):
                _extract(cleaned, rule, marker.stripped, found)
            for view in rest:
                cleaned.claim(view.index, claim)
            return


# What a CMS prints as the byline of a post when nobody set a name: the account, not a person.
# A byline naming one of these ('Posted on March 14, 2025 by admin') is removed like any other,
# but never recorded as the author. Generic account names only, not team names ('Redaktion').
_ACCOUNT_NAMES = frozenset({"admin", "administrator", "webmaster", "editor", "root", "user", "site admin",
                           "siteadmin"})


def _extract(cleaned: Cleaned, rule: Rule, text: str, found: regex.Match[str] | bool) -> None:
    """Keep the facts a removed line carries (author, date, disclosure) in the metadata."""
    if rule.extract_line:
        cleaned.extract(rule.extract_line, text)
    if not isinstance(found, regex.Match):
        return
    # Alternatives in one pattern cannot reuse a group name, so `year2` counts as `year`.
    groups: dict[str, str] = {}
    for key, value in found.groupdict().items():
        if value:
            groups.setdefault(key.rstrip("0123456789"), value)
    date = _date(groups, rule.months)
    if date:
        cleaned.extract("published", date)
    for key, value in groups.items():
        if key not in ("year", "month", "day", "hour", "minute") \
                and not (key == "author" and value.strip(" .").casefold() in _ACCOUNT_NAMES):
            cleaned.extract(key, value.strip())


def _date(groups: dict[str, str], months: dict[str, int]) -> str | None:
    """Compose an ISO date from year/month/day[/hour/minute] groups; None if it is not a date."""
    if not {"year", "month", "day"} <= groups.keys():
        return None
    month_text = groups["month"].strip(". ").casefold()
    month = int(month_text) if month_text.isdigit() else months.get(month_text)
    year = int(groups["year"])
    year = year + 2000 if year < 100 else year
    try:
        day = dt.date(year, month or 0, int(groups["day"]))
        if "hour" in groups and "minute" in groups:
            return dt.datetime(day.year, day.month, day.day, int(groups["hour"]),
                               int(groups["minute"])).isoformat(timespec="minutes")
    except ValueError:
        return None
    return day.isoformat()
