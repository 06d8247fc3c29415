"""The fast line matcher (LineIndex) claims exactly the lines the plain one (PlainMatcher) does."""

from __future__ import annotations

import json
from pathlib import Path

import regex
from conftest import make_document
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cleaner.document import Cleaned
from cleaner.filters.boilerplate import line_views
from cleaner.filters.matching import LineIndex, LiteralHits, PlainMatcher
from cleaner.rules.loader import RulePackError, RuleSet, load_rules
from cleaner.rules.model import Rule

REPO = Path(__file__).resolve().parent.parent

# Small alphabets, so that generated rules and lines meet often.
WORD = st.text(alphabet="abxyzäßİ", min_size=1, max_size=4)
PHRASE = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
PATTERN = st.lists(st.sampled_from(["ab", "x", "[a-c]", "[0-9]+", "ä?", "(?:y|z)", r"\s", "ß*", ".*", r"\d",
                                    "(?P<author>[a-z]+)", "(?P<year>[0-9]{4})"]),
                   min_size=1, max_size=5).map("".join)
LINE = st.lists(st.one_of(WORD, st.sampled_from(["-", "»", "1999", ":", "2024", "ab:", "AB", "..."])),
                min_size=1, max_size=10).map(" ".join)


@st.composite
def line_rule(draw: st.DrawFn, index: int) -> str:
    lines = [f'[[rule]]\nid = "gen.r{index}"\ncategory = "ad"\nkind = "line"']
    match = draw(st.sampled_from(["phrases", "prefixes", "pattern", "pattern"]))
    if match == "pattern":
        lines.append(f"pattern = '''{draw(PATTERN)}'''")
        lines.append(f"case_sensitive = {json.dumps(draw(st.booleans()))}")
    else:
        lines.append(f"{match} = {json.dumps(draw(st.lists(PHRASE, min_size=1, max_size=3)), ensure_ascii=False)}")
    for guard, high in (("max_words", 12), ("min_words", 4), ("within_top", 4), ("within_bottom", 4)):
        if draw(st.booleans()):
            lines.append(f"{guard} = {draw(st.integers(1, high))}")
    lines.append('remove = ["ab"]\nkeep = ["Ein ganz normaler Satz."]')
    return "\n".join(lines)


@st.composite
def line_packs(draw: st.DrawFn) -> str:
    return "\n\n".join(draw(line_rule(i)) for i in range(draw(st.integers(1, 8)))) + "\n"


_LOADED: dict[str, RuleSet | None] = {}


def load_pack(root: Path, toml: str) -> RuleSet | None:
    if toml not in _LOADED:
        directory = root / f"pack{len(_LOADED)}"
        directory.mkdir()
        (directory / "gen.toml").write_text(toml, encoding="utf-8")
        try:
            _LOADED[toml] = load_rules([directory])
        except RulePackError:
            _LOADED[toml] = None  # refused by the loader (a pattern matching the empty line...)
    return _LOADED[toml]


def same_verdict(fast: tuple[Rule, regex.Match[str] | bool] | None,
                 plain: tuple[Rule, regex.Match[str] | bool] | None) -> bool:
    """The same rule claims the line, with the same captured groups (what extraction reads)."""
    if fast is None or plain is None:
        return fast is plain
    groups = [found.groupdict() if isinstance(found, regex.Match) else found for _, found in (fast, plain)]
    return fast[0].id == plain[0].id and groups[0] == groups[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(toml=line_packs(), lines=st.lists(LINE, min_size=1, max_size=12))
def test_fast_and_plain_matchers_claim_the_same_lines(tmp_path: Path, toml: str, lines: list[str]) -> None:
    ruleset = load_pack(tmp_path, toml)
    assume(ruleset is not None)
    assert ruleset is not None
    plain = PlainMatcher(ruleset.rules)
    fast = LineIndex(ruleset.rules, LiteralHits(ruleset.rules))
    cleaned = Cleaned.start(make_document("\n".join(lines)))
    for view in line_views(cleaned):
        # Twice: the second answer comes from the fast matcher's memory of verdicts.
        for _ in range(2):
            assert same_verdict(fast.first(view, cleaned), plain.first(view, cleaned)), (view, toml)


def _fixture_texts() -> list[str]:
    paths = [*sorted((REPO / "tests" / "fixtures").rglob("*.txt")), *sorted((REPO / "seeds").glob("*.txt"))]
    return [path.read_text(encoding="utf-8", errors="replace") for path in paths]


def test_fast_and_plain_matchers_agree_on_the_shipped_rules_and_fixtures(shipped_rules: RuleSet) -> None:
    """All shipped rules at once (as the pipeline meets them: one LiteralHits for the rule set)
    on every fixture and seed line; the comparison must see claims, or it could not fail."""
    rules = list(shipped_rules.rules)
    plain, fast = PlainMatcher(rules), LineIndex(rules, LiteralHits(rules))
    compared = hits = 0
    for text in _fixture_texts():
        cleaned = Cleaned.start(make_document(text))
        for view in line_views(cleaned):
            expected = plain.first(view, cleaned)
            assert same_verdict(fast.first(view, cleaned), expected), view.stripped
            compared += 1
            hits += expected is not None
    assert hits > 100 and compared > hits
