"""Apply rule packs to a document: each rule hit claims lines, with its rule id and category.

Rules run in four passes, each seeing what earlier passes claimed (the first claim on a line wins,
so the most specific explanation is the one recorded):
  1. line   - whole-line phrases, prefixes and regexes, through one index per scope
              (cleaner.filters.matching);
  2. block  - a header line and the run of short, unpunctuated items under it;
  3. repeat - a line repeating a nearby earlier kept line (a doubled title);
  4. tail   - a marker line and everything after it, but only when what follows is short
              boilerplate-shaped text or already claimed, never a long content paragraph.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate
from operator import attrgetter
from urllib.parse import urlsplit

import regex

from cleaner.document import Claim, Cleaned
from cleaner.filters.matching import Heads, LineIndex, LineView, LiteralHits, StartIndex
from cleaner.rules.loader import DEFAULT_MAX_WORDS, RuleSet
from cleaner.rules.model import MATCH_TIMEOUT, Rule, Scope, ends_like_sentence, normalise_words

PASSES = ("line", "block", "repeat", "tail")
# Plans (with their compiled indexes) kept per worker, one per distinct list of applicable rules:
# building one per document instead costs +35-55% of the benchmark's whole pipeline.
_PLAN_CACHE_SIZE = 64
_HEADING_CONTENT_WORDS = 10
_RULE_ID = attrgetter("id")


class RuleFilter:
    """Strips boilerplate from documents with one loaded RuleSet; counts what each rule removed."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._plans: OrderedDict[tuple[str, ...], _Plan] = OrderedDict()
        # The packs whose rules the indexes below hold: those some document has needed so far
        # (see _activate). A pack's patterns are compiled when it joins.
        self._active: set[str] = set()
        self._literal_hits = LiteralHits(())
        # Where a rule's block or tail starts depends on that rule and the lines alone, so one
        # index of every block and tail rule finds them for all the passes over a document.
        self._starts = StartIndex((), self._literal_hits)
        self._precedence = {rule.id: position for position, rule in enumerate(ruleset.rules)}
        # Rules share a handful of scopes; each scope is judged once per document, not per rule.
        self._scopes: dict[Scope, list[int]] = {}
        for position, rule in enumerate(ruleset.rules):
            self._scopes.setdefault(rule.scope, []).append(position)

    def context_round(self, cleaned: Cleaned, rules: list[Rule], views: list[LineView]) -> bool:
        """One round of the rules that judge a line by the lines around it (block, tail, repeat);
        True when a pass whose claims can change what they see claimed more.

        These rules pass over claimed lines as if they were gone, but a line claimed after they
        ran was still there for them, and the clean text, cleaned again, would show them its
        absence: a title repeated two lines below its first copy once a date between them is
        gone, a comment footer within its limits once a later footer is gone. A block claims its
        header, so a second cleaning cannot find it again, unless the header had fewer items
        than the rule's `min_items` and stayed: only then do block claims ask for another round
        (otherwise every document with a teaser list would pay for one).
        """
        if not views:
            return False
        plan = self._plan(rules)  # looked up once for every pass of the round
        claims = cleaned.claims
        watched = ("block", "tail", "repeat") if plan.headers_may_stay else ("tail", "repeat")
        if "block" not in watched:
            self._apply_plan(cleaned, plan, ("block",), views)
        unclaimed = claims.count(None)
        self._apply_plan(cleaned, plan, watched, views)
        return claims.count(None) != unclaimed

    def position_round(self, cleaned: Cleaned, rules: list[Rule], views: list[LineView]) -> list[LineView] | None:
        """Re-run the position-guarded rules with positions counted among the lines still kept:
        "among the first 6 lines" must mean the first 6 lines of the text a reader is left with,
        or a second cleaning pass over the output would remove more.

        `views` carry the positions the previous round saw; returns the views to compare the
        next round with when this round claimed more, None when it changed nothing.
        """
        settling = self._plan(rules).settling
        if settling is None or not views:
            return None
        claims = cleaned.claims
        unclaimed = claims.count(None)
        tops, last = _ranks(views, cleaned)
        # Only a kept line whose position moved into a guarded window can now match.
        moved = [position for position, (view, top) in enumerate(zip(views, tops)) if claims[view.index] is None and (
            (top < settling.top and top != view.rank_top)
            or (last - top < settling.bottom and last - top != view.rank_bottom))]
        if not moved:
            return None
        # Line rules judge each line alone: only the moved ones need their new positions.
        self.apply(cleaned, settling.line_rules, ("line",), [_moved(views[p], tops[p], last) for p in moved])
        if settling.context_rules:
            views = [_moved(view, top, last) for view, top in zip(views, tops)]
            self.apply(cleaned, settling.context_rules, PASSES, views)
        return views if claims.count(None) != unclaimed else None

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
            heads = self._starts.heads(views, cleaned)
            for kind_rules, apply_rule in starting:
                for rule in kind_rules:
                    if rule.id in heads:
                        apply_rule(cleaned, rule, plan.claims[rule.id], views, heads[rule.id])
        if "repeat" in passes:
            for rule in plan.kinds["repeat"]:
                _apply_repeat(cleaned, rule, plan.claims[rule.id], views)

    def _plan(self, rules: list[Rule]) -> _Plan:
        """The plan of these rules (one scope's), from a small LRU cache: corpora mixing many
        sites would otherwise keep one per site combination forever."""
        key = tuple(map(_RULE_ID, rules))
        plan = self._plans.get(key)
        if plan is None:
            self._activate(rules)
            plan = self._plans[key] = _Plan(rules, self._literal_hits)
            if len(self._plans) > _PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan

    def _activate(self, rules: list[Rule]) -> None:
        """Compile the packs these rules come from the first time any document needs them, and
        index them with the packs needed before: a run never compiles a language's or a site's
        pack that none of its documents meets (see cleaner.rules.model.LazyPattern)."""
        joining = {rule.file for rule in rules} - self._active
        if not joining:
            return
        self._active |= joining
        for rule in self.ruleset.rules:
            if rule.file in joining:
                for pattern in rule.patterns():
                    pattern.get()
        active = [rule for rule in self.ruleset.rules if rule.file in self._active]
        self._literal_hits = LiteralHits(active)
        self._starts = StartIndex(active, self._literal_hits)


class _Plan:
    """What the passes need of one list of rules, worked out once per list instead of once per
    document: documents of one site and language meet the same lists again and again."""

    def __init__(self, rules: list[Rule], literals: LiteralHits) -> None:
        self.index = LineIndex(rules, literals)
        # Claims are immutable: one per rule serves every line it removes.
        self.claims = {rule.id: Claim(rule.id, rule.category) for rule in rules}
        self.kinds = {kind: [rule for rule in rules if rule.kind == kind] for kind in ("block", "tail", "repeat")}
        self.headers_may_stay = any(rule.min_items for rule in self.kinds["block"])  # see context_round
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
    means the same on a dump as on its cleaned text (see `RuleFilter.position_round`). Lines
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
