"""Check every rule against the examples it carries, so a rule cannot silently rot.

Each rule alone must remove exactly the lines its examples say. Its keep examples must also
survive every other rule that could meet them (same language or language-neutral, not another
site's pack): content a rule promises to keep must not be eaten by a neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cleaner.document import Cleaned, Document, Source
from cleaner.filters.boilerplate import RuleFilter
from cleaner.rules.example_cache import examples_passed, remember_passed
from cleaner.rules.loader import RulePackError, RuleSet, load_rules
from cleaner.rules.model import Example, Rule

_EXAMPLE_SOURCE = Source(path="example.txt", root="examples", sha256="0" * 64, size=0, format="txt")


@dataclass(frozen=True)
class ExampleFailure:
    rule: Rule
    example: Example
    removed: tuple[int, ...]
    removed_by: tuple[str, ...]

    def message(self) -> str:
        first = self.example.text.splitlines()[0] if self.example.text else ""
        expected = list(self.example.removed) or "nothing"
        culprits = f" (removed by {', '.join(self.removed_by)})" if self.removed_by else ""
        return (f"{self.rule.path}:{self.rule.line}: rule '{self.rule.id}': example {first[:60]!r} "
                f"should remove lines {expected}, removed {list(self.removed) or 'nothing'}{culprits}")


def removed_lines(rule_filter: RuleFilter, rules: list[Rule], text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The 1-based non-blank lines these rules remove from text, and which rules did."""
    cleaned = Cleaned.start(Document("example", text, _EXAMPLE_SOURCE))
    rule_filter.apply(cleaned, rules)
    hits = [(line.number, claim.rule) for line, claim in zip(cleaned.lines, cleaned.claims)
            if claim is not None and not line.blank]
    return tuple(n for n, _ in hits), tuple(dict.fromkeys(r for _, r in hits))


def _neighbours(rule: Rule, ruleset: RuleSet) -> list[Rule]:
    def compatible(other: Rule) -> bool:
        if other.scope.site_specific and other.file != rule.file:
            return False
        return (not other.scope.languages or not rule.scope.languages
                or bool(set(other.scope.languages) & set(rule.scope.languages)))
    return [other for other in ruleset.rules if compatible(other)]


def check_examples(ruleset: RuleSet) -> list[ExampleFailure]:
    rule_filter = RuleFilter(ruleset)
    # Neighbour lists are few (one per scope) but each compiles into a large plan: a filter of
    # their own keeps those plans cached, where the one-rule plans of a big rule set would evict them.
    neighbour_filter = RuleFilter(ruleset)
    failures: list[ExampleFailure] = []
    for rule in ruleset.rules:
        for example in rule.examples:
            removed, by = removed_lines(rule_filter, [rule], example.text)
            if removed != example.removed:
                failures.append(ExampleFailure(rule, example, removed, by))
                continue
            if not example.removed:
                removed, by = removed_lines(neighbour_filter, _neighbours(rule, ruleset), example.text)
                if removed:
                    failures.append(ExampleFailure(rule, example, removed, by))
    return failures


def load_checked_rules(directories: list[Path] | None = None, *, cached: bool = False) -> RuleSet:
    """Load the packs and refuse them if any rule fails its own examples.

    With `cached` (a run's start-up), a rule set that passed before is not checked again (see
    cleaner.rules.example_cache); `cleaner rules test` and the tests check every time.
    """
    ruleset = load_rules(directories)
    if cached and examples_passed(ruleset):
        ruleset.mark_checked()
        return ruleset
    ruleset.compile()  # every pattern checked, those of packs no example reaches too
    failures = check_examples(ruleset)
    if failures:
        raise RulePackError(failures[0].message() + (f" (+{len(failures) - 1} more failing examples; "
                                                      "run `cleaner rules test`)" if len(failures) > 1 else ""))
    if cached:
        remember_passed(ruleset)
    return ruleset
