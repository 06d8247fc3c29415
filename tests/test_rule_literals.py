"""The literal prefilter of line-rule patterns: what it derives, and that it never skips a match."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex
from conftest import REPO, SEEDS, filtered, make_document, rules_from
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.document import Cleaned
from cleaner.filters.boilerplate import line_views
from cleaner.filters.matching import LineIndex, LiteralHits
from cleaner.rules.literals import CASED_PLANES_END, LiteralGate, Literals, case_class, necessary_literals
from cleaner.rules.loader import RuleSet, load_rules
from cleaner.rules.model import Rule

I = regex.IGNORECASE | regex.VERSION0


def needles(source: str, flags: int = I) -> set[str] | None:
    found = necessary_literals(regex.compile(source, flags))
    return None if found is None else set(found.needles)


@pytest.mark.parametrize(("source", "expected"), [
    # a sequence needs its most selective part: the set whose shortest literal is longest
    (r"foo\s+barbaz\d*", {"barbaz"}),
    (r".*\b(?:news|rss)\b.*\b(?:abonnieren|erhalten)\b.*", {"abonnieren", "erhalten"}),
    # an alternation needs one of its branches; one branch without a literal voids it
    (r"(?:alpha|beta)\d+", {"alpha", "beta"}),
    (r"(?:alpha|be)\d+", None),
    (r"alpha|\d+", None),
    # a literal that contains another adds nothing to an alternation
    (r"(?:letter|newsletter) now", {"letter"}),
    # optional and zero-minimum repeats need nothing; a repeat of at least one needs its body
    (r"(?:alpha)?\d+", None),
    (r"\d+(?:alpha)*", None),
    (r"(?:alpha){2,3}", {"alpha"}),
    (r"(?:alpha)+?x", {"alpha"}),
    # nested groups, named groups, backreferences
    (r"((?:xy(?:cde|fgh)))", {"cde", "fgh"}),
    (r"(?P<author>administrator|webmaster)", {"administrator", "webmaster"}),
    (r"(?P<w>\w+) (?P=w)", None),
    (r"(?P<w>abc)(?P=w)", {"abc"}),
    # classes, any, anchors and lookarounds need nothing
    (r"(?=abc)\w+", None),
    (r"[abc]{3}", None),
    (r"^.+$", None),
    # literals shorter than three characters filter nothing, unless they are symbols short
    # lines seldom hold; the punctuation of dates and sentences is not one of them
    (r"ab\d+", None),
    (r"\(c\)\s*\d{4}", {"(c)"}),
    (r"(?:©|\(c\))\s*\d{4}", {"©", "(c)"}),
    (r"\w+\s\|\s\w+", {"|"}),
    (r"@\w{2,30}", {"@"}),
    (r"\d+\.\d+", None),
    (r"\d+:\d+", None),
    # a class listing symbols needs one of them; a class of one letter's case forms is that letter
    (r"(?:[^>›»]+[>›»]\s*){2,7}\w+", {">", "›", "»"}),
    (r"[Vv]on\s+\w+", {"von"}),
    (r"[Vv][Oo][Nn]", {"von"}),
    (r"[Bb]y\s+\w+", None),
    (r"[Vw]on", None),
    # case: literals are lowercase; IGNORECASE, inline flags and scoped flags are followed
    (r"NewsLetter", {"newsletter"}),
    (r"(?i)NewsLetter", {"newsletter"}),
    (r"(?-i:Abo)nnieren", {"nnieren"}),  # a group ends a literal run
])
def test_derivation_on_representative_shapes(source: str, expected: set[str] | None) -> None:
    assert needles(source) == expected


def test_case_sensitive_literals_are_lowercased_and_never_voided() -> None:
    found = necessary_literals(regex.compile(r"[Vv]on\s+Reporting", regex.VERSION0))
    assert found is not None
    assert set(found.needles) == {"reporting"} and not found.voiding
    assert found.admits("von REPORTING") and not found.admits("von Bericht")


def test_a_class_of_case_forms_voids_like_its_letter_under_ignorecase() -> None:
    found = necessary_literals(regex.compile(r"[Ss]ubscribe", I))
    assert found is not None and set(found.needles) == {"subscribe"} and "ſ" in found.voiding
    assert found.admits("ſubscribe") and regex.compile(r"[Ss]ubscribe", I).fullmatch("ſubscribe")


def test_scoped_flags_decide_whether_case_folding_voids() -> None:
    sensitive = necessary_literals(regex.compile(r"(?-i:subscribe)\d", I))
    insensitive = necessary_literals(regex.compile(r"(?i:subscribe)\d", regex.VERSION0))
    assert sensitive is not None and insensitive is not None
    assert sensitive.needles == insensitive.needles == {"subscribe"}
    assert not sensitive.voiding and "ſ" in insensitive.voiding


def test_case_classes_are_read_from_the_planes_that_hold_every_cased_character() -> None:
    """case_class asks `regex` over the first two planes only: that must lose nothing, by
    `regex`'s own tables (a character with no case mapping matches only itself)."""
    beyond = "".join(map(chr, range(CASED_PLANES_END, 0x110000)))
    assert regex.search(r"[\p{Cased}\p{Changes_When_Casemapped}\p{Changes_When_Casefolded}]", beyond) is None
    everything = "".join(map(chr, range(0x110000)))
    for ch in "sSkKiIßµΣåÅ𐐀\U00020000":
        whole = frozenset(regex.compile(regex.escape(ch), I).findall(everything))
        assert case_class(ch) == whole, ch


def test_case_folding_that_str_lower_does_not_mirror_voids_the_prefilter() -> None:
    """`regex` lets `s` match `ſ` and `i` match `İ`; their lowercase forms differ, so a line
    containing them must not be prefiltered away."""
    assert {"ſ", "S", "s"} <= case_class("s") and "İ" in case_class("i")
    pattern = regex.compile("subscribe", I)
    found = necessary_literals(pattern)
    assert found is not None and {"ſ", "İ"} <= found.voiding
    for line in ("ſubſcribe", "SUBSCRİBE", "subscribe"):
        assert pattern.fullmatch(line) and found.admits(line), line
    assert not found.admits("abonnieren")


def test_a_pattern_character_whose_case_partners_lower_otherwise_voids_on_ascii_too() -> None:
    """A pattern's `ſ` (long s) matches `s` and `S`, which do not lowercase to `ſ`."""
    pattern = regex.compile("ſubscribe", I)
    found = necessary_literals(pattern)
    assert found is not None and {"s", "S"} <= found.voiding
    assert pattern.fullmatch("Subscribe")
    assert found.admits("Subscribe") and LiteralGate([found]).admitted("Subscribe") == [0]


@pytest.mark.parametrize(("source", "expected"), [
    ("İstanbul", {"stanbul"}),  # 'İ' lowercases to two characters: it splits the literal
    ("λόγος", {"λόγο"}),  # sigma lowercases by context: it can be no part of a literal
    ("ΟΔΟΣ", {"οδο"}),
])
def test_characters_str_lower_changes_in_length_or_by_context_split_literals(
        source: str, expected: set[str]) -> None:
    assert needles(source) == expected


@pytest.mark.parametrize("source", [
    r"(?:newsletter){e<=1}",  # regex fuzzy matching: a literal "{e<=1}" to `re`
    r"[[:alpha:]]+bar",  # a POSIX class to regex, a nested set warning to `re`
    r"[[a-z]--[aeiou]]+bar",  # set difference
    r"\p{L}+newsletter",  # regex-only escape
    r"(?|abc|abd)xyz",  # branch reset
    r"abc(?i)def",  # a global flag that is not at the start
])
def test_syntax_re_does_not_read_like_regex_gives_no_prefilter(source: str) -> None:
    assert necessary_literals(regex.compile(source, I)) is None


@pytest.mark.parametrize("flags", [I | regex.VERBOSE, regex.IGNORECASE | regex.VERSION1, I | regex.FULLCASE])
def test_flags_regex_reads_otherwise_give_no_prefilter(flags: int) -> None:
    assert necessary_literals(regex.compile(r"strasse", flags)) is None
    assert necessary_literals(regex.compile(r"strasse", I)) is not None
    if flags & regex.FULLCASE or flags & regex.VERSION1:
        assert regex.compile(r"strasse", flags).fullmatch("straße")  # 'ss' folds to 'ß' here


def test_gate_finds_each_set_a_line_satisfies_and_only_those() -> None:
    sets = [Literals(frozenset(words), frozenset(voiding)) for words, voiding in [
        ({"abonnieren", "abo"}, ""), ({"cookie"}, ""), ({"cookies", "ko-fi"}, ""), ({"(c)", "a.b"}, ""),
        ({"nieren", "bonn"}, ""), ({"subscribe"}, "ſİ")]]
    gate = LiteralGate(sets)
    for line, expected in [
        ("Jetzt ABONNIEREN!", [0, 4]),  # overlapping needles are all found
        ("cookies", [1, 2]),  # a needle extending another
        ("cookie", [1]),
        ("ko-fi and (c)", [2, 3]),
        ("aXb, kofi, cooki, ab", []),
        ("ſo", [5]),  # a voiding character admits its set whatever the needles
        ("Ünterstützen", []),
    ]:
        assert gate.admitted(line) == expected, line
        assert [n for n, s in enumerate(sets) if s.admits(line)] == expected, line
    assert LiteralGate([]).admitted("anything") == []


def test_literal_hits_name_the_rules_a_line_holds_literals_of(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, """
[[rule]]
id = "t.newsletter"
category = "newsletter"
kind = "line"
pattern = '.*newsletter.*'
remove = ["Unser Newsletter"]
keep = ["Der Bericht erschien gestern."]

[[rule]]
id = "t.stamp"
category = "date"
kind = "line"
pattern = '\\d+\\.\\d+\\.\\d+'
remove = ["1.2.2024"]
keep = ["Am 1. Mai 2024 wurde gewählt."]
""")
    hits = LiteralHits(rule_filter.ruleset.rules)
    assert "t.newsletter" in hits and "t.stamp" not in hits  # no literal: tried on every line
    assert hits.admitted("Zum NEWSLETTER anmelden") == {"t.newsletter"}
    assert hits.admitted("Zum NEWSLETTER anmelden") == {"t.newsletter"}  # remembered, same answer
    assert hits.admitted("1.2.2024") == frozenset()


def _seed_lines(ruleset: RuleSet) -> list[tuple[Rule, str]]:
    seeds = []
    for rule in ruleset.rules:
        if rule.kind == "line" and rule.test is not None and rule.test.pattern is not None \
                and necessary_literals(rule.test.pattern) is not None:
            for example in rule.examples:
                seeds += [(rule, line.strip()) for line in example.text.splitlines() if line.strip()]
    return seeds


SHIPPED = load_rules()
SEED_LINES = _seed_lines(SHIPPED)
TRICKY = "ſİıKßẞΣσςµÅﬀ\u0307\u00a0é"


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Rule, str]:
    """An example line of a prefiltered rule, with characters swapped for ones the pattern's
    case folding accepts (so matches survive), random text inserted and random case changes."""
    rule, line = draw(st.sampled_from(SEED_LINES))
    chars = list(line)
    for _ in range(draw(st.integers(0, 8))):
        if not chars:
            break
        at = draw(st.integers(0, len(chars) - 1))
        action = draw(st.sampled_from(["fold", "fold", "insert", "case"]))
        if action == "fold":
            chars[at] = draw(st.sampled_from(sorted(case_class(chars[at])) or [chars[at]]))
        elif action == "insert":
            chars.insert(at, draw(st.text(alphabet=st.sampled_from(TRICKY + "abc ,.:-"), max_size=4)))
        else:
            chars[at] = chars[at].swapcase() if draw(st.booleans()) else chars[at].upper()
    return rule, "".join(chars)


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_prefilter_admits_every_line_its_pattern_matches(case: tuple[Rule, str]) -> None:
    rule, line = case
    assert rule.test is not None and rule.test.pattern is not None
    literals = necessary_literals(rule.test.pattern)
    assert literals is not None
    if rule.test.pattern.fullmatch(line, timeout=1):
        assert literals.admits(line), (rule.id, line)


def test_seed_lines_exercise_matches() -> None:
    """The property above must see matching lines, or it could not fail."""
    matching = [line for rule, line in SEED_LINES if rule.test and rule.test.pattern
                and rule.test.pattern.fullmatch(line)]
    assert len(matching) >= 20


def _fixture_texts() -> list[str]:
    paths = [*sorted((REPO / "tests" / "fixtures").rglob("*.txt")), *sorted(SEEDS.glob("*.txt"))]
    return [path.read_text(encoding="utf-8", errors="replace") for path in paths]


def _rule_sets(ruleset: RuleSet) -> list[list[Rule]]:
    """All shipped rules together, and each pack alone (precedence differs between them)."""
    packs = sorted({rule.file for rule in ruleset.rules})
    return [list(ruleset.rules), *([r for r in ruleset.rules if r.file == pack] for pack in packs)]


def test_line_index_gives_the_same_verdicts_with_and_without_the_prefilter(shipped_rules: RuleSet) -> None:
    texts = _fixture_texts()
    assert len(texts) > 20
    compared = hits = 0
    # As RuleFilter builds them: every index asks one LiteralHits over the whole rule set.
    shared = LiteralHits(shipped_rules.rules)
    for rules in _rule_sets(shipped_rules):
        reference = LineIndex(rules, prefilter=False)
        fast = [LineIndex(rules), LineIndex(rules, shared)]
        for text in texts:
            cleaned = Cleaned.start(make_document(text))
            for view in line_views(cleaned):
                expected = reference.first(view, cleaned)
                for index in fast:
                    got = index.first(view, cleaned)
                    assert (got and got[0].id) == (expected and expected[0].id), view.stripped
                    if isinstance(expected, tuple) and isinstance(expected[1], regex.Match):
                        assert isinstance(got, tuple) and isinstance(got[1], regex.Match)
                        assert got[1].groupdict() == expected[1].groupdict()
                compared += 1
                hits += expected is not None
    assert hits > 100 and compared > hits


def test_a_line_only_case_folding_matches_is_still_claimed(tmp_path: Path) -> None:
    """End to end through RuleFilter: 'ſ' (long s) matches 's' under IGNORECASE."""
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.sub"
category = "newsletter"
kind = "line"
pattern = '.*\\bsubscribe\\b.*\\bnewsletter\\b.*'
remove = ["Subscribe to our newsletter"]
keep = ["Kein Treffer hier."]
''')
    cleaned = filtered(rule_filter, "Subſcribe to our newſletter\nA plain line of text here.", "en")
    assert [claim.rule if claim else None for claim in cleaned.claims] == ["t.sub", None]
