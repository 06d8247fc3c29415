"""The rule packs as stages: language-neutral rules, the language's line rules, the rules that
judge a line by its neighbours, and position-guarded rules re-run at the positions left.

Language packs need the language, and the language should be read from clean text, so the line
and block rules of language-neutral packs (site and common) run first (`NeutralRules`), the
language is detected on what they keep (cleaner.filters.language.LanguageDetection), that
language's line rules follow (`LanguageRules`), and the block, tail and repeat rules of both
(`ContextRules`) and the position-guarded ones (`PositionRules`) last; all but the first run in
the pipeline's fixed point (see cleaner.filters.stage).

The stages of one document share what `RuleStages` computed for it once: its line views and the
rules whose scope selects it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cleaner.document import Cleaned
from cleaner.filters.boilerplate import RuleFilter, line_views
from cleaner.filters.matching import LineView
from cleaner.filters.stage import StageStats
from cleaner.rules.loader import RuleSet
from cleaner.rules.model import Rule


@dataclass(slots=True)
class _Reading:
    """What the rule stages know of the document they are cleaning."""

    cleaned: Cleaned
    views: list[LineView]
    neutral: list[Rule]  # site and common rules that select the document
    context: list[Rule] = field(default_factory=list)  # neutral and language rules, in precedence order
    positioned: list[LineView] = field(default_factory=list)  # positions the last position round saw


class RuleStages:
    """The compiled rule set, and the reading of the document its stages are on."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.filter = RuleFilter(ruleset)
        self._reading: _Reading | None = None

    def start(self, cleaned: Cleaned) -> _Reading:
        views = line_views(cleaned)
        neutral = self.filter.applicable(cleaned, None, only_language_rules=False)
        self._reading = _Reading(cleaned, views, neutral)
        return self._reading

    def reading(self, cleaned: Cleaned) -> _Reading:
        assert self._reading is not None and self._reading.cleaned is cleaned, "NeutralRules runs first"
        return self._reading


class NeutralRules:
    """Line and block rules of the packs without a language (site and common)."""

    name = "rules.neutral"

    def __init__(self, rules: RuleStages) -> None:
        self.rules = rules
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        reading = self.rules.start(cleaned)
        self.rules.filter.apply(cleaned, reading.neutral, ("line", "block"), reading.views)
        return True


class LanguageRules:
    """Line rules of the packs for the document's language (every language's when unknown)."""

    name = "rules.language"

    def __init__(self, rules: RuleStages) -> None:
        self.rules = rules
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        reading = self.rules.reading(cleaned)
        rule_filter = self.rules.filter
        language = rule_filter.applicable(cleaned, None if cleaned.lang == "und" else cleaned.lang,
                                          only_language_rules=True)
        reading.context = rule_filter.in_precedence([*reading.neutral, *language])
        kept = cleaned.claims.count(None)
        rule_filter.apply(cleaned, language, ("line",), reading.views)
        return cleaned.claims.count(None) != kept


class ContextRules:
    """Block, tail and repeat rules of the neutral and language packs (see RuleFilter.context_round)."""

    name = "rules.context"

    def __init__(self, rules: RuleStages) -> None:
        self.rules = rules
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        reading = self.rules.reading(cleaned)
        reading.positioned = reading.views  # the position rounds after it start from the first positions
        return self.rules.filter.context_round(cleaned, reading.context, reading.views)


class PositionRules:
    """Position-guarded rules at the positions among the lines still kept (see RuleFilter.position_round)."""

    name = "rules.positions"

    def __init__(self, rules: RuleStages) -> None:
        self.rules = rules
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        reading = self.rules.reading(cleaned)
        moved = self.rules.filter.position_round(cleaned, reading.context, reading.positioned)
        if moved is None:
            return False
        reading.positioned = moved
        return True
