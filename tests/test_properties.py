"""Properties over arbitrary text and arbitrary (valid) rule packs.

- cleaning never raises, whatever the text, line endings or rules;
- provenance is lossless: `rebuild_source` gives back the input exactly;
- records are valid UTF-8 JSON, also for JSONL input carrying lone surrogates;
- cleaning with the shipped rules is idempotent: a second pass over the clean text removes nothing.

`make fuzz` runs these same properties for a long time (tests/fuzz/fuzz_cleaner.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import filtered, make_document
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from cleaner.document import Cleaned, Source
from cleaner.filters.boilerplate import RuleFilter
from cleaner.readers.records import RecordFields, record_to_document
from cleaner.rules.loader import RulePackError, RuleSet, load_rules
from cleaner.rules.model import _BULLET, _TRAILING_CHARS, normalise_phrase
from cleaner.stages import DocumentCleaner
from cleaner.writers.record import build_record, rebuild_source

PIPELINE = {"cleaner": "test", "rules_digest": "", "settings": {}}
BREAKS = st.sampled_from(["\n", "\r\n", "\r"])
WORDS = st.sampled_from(["Anzeige", "Mehr", "zum", "Thema", "Newsletter", "abonnieren", "Teilen", "Share", "Read",
                         "more", "Kommentare", "Stellenangebote", "Die", "Stadt", "plant", "einen", "Park", "am",
                         "Fluss", "2024", "12.11.2024", "Von", "Anna", "Muster", "©", "•", "-", "|", "…"])
# Every line of the shipped rules' own examples, what they remove and what they keep: documents
# mixing them meet rules of several kinds and languages at once, where idempotence is hardest.
EXAMPLE_LINES = st.sampled_from(sorted({line for rule in load_rules().rules for example in rule.examples
                                        for line in example.text.splitlines() if line.strip()}))
LINE = st.one_of(
    st.lists(WORDS, max_size=12).map(" ".join),  # boilerplate-shaped lines the shipped rules act on
    EXAMPLE_LINES,
    st.text(max_size=80).map(lambda s: s.replace("\n", " ").replace("\r", " ")),  # anything else on one line
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Lines of words, rule example lines and arbitrary Unicode, joined by any mix of \\n, \\r\\n and \\r."""
    lines = draw(st.lists(LINE, max_size=25))
    pieces = []
    for line in lines:
        pieces += [line, draw(BREAKS)]
    if pieces and draw(st.booleans()):
        pieces.pop()  # no line break at the end
    return "".join(pieces)


def record_of(cleaned: Cleaned) -> dict:
    record = build_record(cleaned, "2024-01-01T00:00:00Z", PIPELINE)
    encoded = json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert json.loads(encoded.decode("utf-8")) == record
    return record


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents())
def test_shipped_rules_never_raise_and_provenance_is_lossless(document_cleaner: DocumentCleaner, text: str) -> None:
    record = record_of(document_cleaner.clean(make_document(text)))
    assert rebuild_source(record) == text


# Found by `make fuzz`: position guards once counted lines other rules had removed.
IDEMPOTENCE_COUNTEREXAMPLE = "Anzeige\n" * 7 + "Text\nA » B » C\n"
# Found by CI: the repeated first line made the language English; once the repeat was removed
# it was unknown, and the German rules (for an unknown language every language's) then applied.
REPEATED_LINE_SWAYED_LANGUAGE = ("Share Newsletter Thema Thema Thema Newsletter Thema Anzeige\n" * 2
                                 + "Newsletter abonnieren Share\n")
# English while "Read more" was there, unknown once the English rules had removed it: the German
# byline rule then applied too (see the fixed point in cleaner.filters.stage).
LANGUAGE_CHANGED_BY_ITS_RULES = "Von Anna Muster\nRead more\n"
# Found by `make fuzz`: the repeat rule ran while the stamp and the credit between the two copies
# were there; settling positions removed them after it (see RuleFilter.context_round).
_AD_LINE = "Anzeige Anzeige Anzeige Anzeige Anzeige Anzeige 12.11.2024 Anzeige Anzeige Anzeige Anzeige Anzeige\n"
REPEAT_BEFORE_SETTLING = ("(AP)\n" * 4 + _AD_LINE + "KIEW / LONDON (IT BOLTWISE) – Die Ukraine zeigt sich bereit für "
                          "Verhandlungen mit Russland, um den anhaltenden Konflikt zu beenden.\n12.11.2024\n(AP)\n"
                          + _AD_LINE + "(AP)\n")
# Found by `make fuzz`: the second comment footer's tail fitted its limits, the first one's only
# once the second was gone.
_FOOTER = "Du hast einen wertvollen Beitrag oder Kommentar zum Artikel für unsere Leser?\n"
TAIL_AFTER_TAIL = (_FOOTER + "(Image: Getty Images)\nAnzeige Anzeige\nMehr\nMehr\n(Image: Getty Images)\n" + _FOOTER
                   + "Mehr\nMehr\n" + "Anzeige Anzeige\n" * 3 + "(Image: Getty Images)\n" * 2)

# Found by CI: the line classifier removed the "0" between two copies of a line after the repeat
# rule had run; cleaned again, the copies were neighbours (the rules now run again after it).
_COUNCIL = "Also: the council will vote on the budget next week, which could mean new taxes.\n"
CLASSIFIER_JOINED_REPEATS = _COUNCIL + "0\nAnzeige Newsletter\n" + _COUNCIL


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents())
@example(text=IDEMPOTENCE_COUNTEREXAMPLE)
@example(text=REPEATED_LINE_SWAYED_LANGUAGE)
@example(text=LANGUAGE_CHANGED_BY_ITS_RULES)
@example(text=REPEAT_BEFORE_SETTLING)
@example(text=TAIL_AFTER_TAIL)
@example(text=CLASSIFIER_JOINED_REPEATS)
def test_cleaning_is_idempotent_with_shipped_rules(document_cleaner: DocumentCleaner, text: str) -> None:
    first = record_of(document_cleaner.clean(make_document(text)))
    second = record_of(document_cleaner.clean(make_document(first["text"])))
    assert second["metadata"]["removed"] == [], (first["text"], second["metadata"]["removed"])
    assert second["text"] == first["text"]


# Generated rule packs: phrases and patterns from a small alphabet that cannot backtrack badly.
TOKEN = st.text(alphabet="abcxyzäß", min_size=1, max_size=5)
PHRASE = st.lists(TOKEN, min_size=1, max_size=3).map(" ".join)
PATTERN = st.lists(st.sampled_from(["ab", "x", "[a-c]", "[0-9]+", "ä?", "(?:y|z)", r"\s", "ß*", "(?P<author>[a-z]+)"]),
                   min_size=1, max_size=5).map("".join)


@st.composite
def rule_tables(draw: st.DrawFn, index: int) -> str:
    kind = draw(st.sampled_from(["line", "block", "tail", "repeat"]))
    lines = [f'[[rule]]\nid = "gen.r{index}"\ncategory = "{draw(st.sampled_from(["ad", "promo", "teaser"]))}"',
             f'kind = "{kind}"']
    if kind == "repeat":
        lines.append(f"window = {draw(st.integers(1, 4))}")
        lines.append('remove = ["abc\\nabc"]')
    else:
        match = draw(st.sampled_from(["phrases", "prefixes", "pattern"]))
        if match == "pattern":
            pattern = draw(PATTERN)
            lines.append(f"pattern = '''{pattern}'''")
            if "(?P<author>" in pattern:
                lines = [line for line in lines if not line.startswith("pattern")]
                lines.append(f"pattern = '''{pattern.replace('(?P<author>', '(?:', 1)}'''")
        else:
            lines.append(f"{match} = {json.dumps(draw(st.lists(PHRASE, min_size=1, max_size=3)), ensure_ascii=False)}")
        if draw(st.booleans()):
            lines.append(f"max_words = {draw(st.integers(1, 8))}")
        if kind == "tail":
            lines.append(f"tail_max_words = {draw(st.integers(1, 40))}")
        if kind == "block":
            lines.append(f"item_max_words = {draw(st.integers(1, 8))}")
        lines.append('remove = ["abc"]')
        if draw(st.booleans()):
            lines.append(f"within_top = {draw(st.integers(1, 5))}")
    lines.append('keep = ["Ein ganz normaler Satz mit Inhalt."]')
    return "\n".join(lines)


@st.composite
def rule_packs(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 4))
    return "\n\n".join(draw(rule_tables(i)) for i in range(count)) + "\n"


_LOADED: dict[str, RuleSet | None] = {}


def load_pack(tmp_root: Path, toml: str) -> RuleSet | None:
    """Load a generated pack once; None when the loader refuses it (that is the loader's job)."""
    if toml not in _LOADED:
        directory = tmp_root / f"pack{len(_LOADED)}"
        directory.mkdir()
        (directory / "gen.toml").write_text(toml, encoding="utf-8")
        try:
            _LOADED[toml] = load_rules([directory])
        except RulePackError:
            _LOADED[toml] = None
    return _LOADED[toml]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(toml=rule_packs(), text=documents())
def test_generated_rule_packs_never_raise_and_keep_provenance(tmp_path: Path, toml: str, text: str) -> None:
    ruleset = load_pack(tmp_path, toml)
    assume(ruleset is not None)
    assert ruleset is not None
    cleaned = filtered(RuleFilter(ruleset), text, None)
    assert rebuild_source(record_of(cleaned)) == text


SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


@settings(deadline=None)
@given(text=st.text(max_size=60), lone=st.lists(SURROGATE, min_size=1, max_size=4))
def test_jsonl_text_with_lone_surrogates_is_written_as_utf8(document_cleaner: DocumentCleaner, text: str,
                                                            lone: list[str]) -> None:
    """json.loads returns lone surrogates from "\\ud800" escapes; they become U+FFFD, counted."""
    damaged = text + "".join(ch + "·" for ch in lone)  # the separator keeps them from pairing up
    record = json.loads(json.dumps({"text": damaged, "note": lone[0]}))  # what the JSONL reader gets
    source = Source(path="a.jsonl", root="tests", sha256="0" * 64, size=0, format="jsonl")
    document = record_to_document(record, 0, "a.jsonl:1", source, RecordFields(detect_html=False))
    assert document.meta["replaced_surrogates"] == len(lone) + 1
    assert document.meta["fields"] == {"note": "\ufffd"}
    out = record_of(document_cleaner.clean(document))
    assert rebuild_source(out) == text + "\ufffd·" * len(lone)


@given(st.one_of(LINE, st.text(alphabet="-–—•*·>»›▸►←‹< \t\u00a0abc.:", max_size=12)))
def test_normalised_phrase_drops_bullets_only_at_the_start(text: str) -> None:
    """normalise_phrase skips its bullet regex unless the text starts like a bullet: the same
    result as always running it."""
    joined = " ".join(text.split())
    assert normalise_phrase(text) == _BULLET.sub("", joined).rstrip(_TRAILING_CHARS).casefold()
