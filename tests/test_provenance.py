"""Provenance is lossless: kept and removed spans cover the source exactly once, in order."""

from __future__ import annotations

import json

from conftest import SEEDS, clean_text, make_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.document import Claim, Cleaned, segment
from cleaner.stages import DocumentCleaner
from cleaner.writers.record import build_record, rebuild_source

BOILERPLATE_LINES = ["Lesen Sie auch", "Anzeige", "administrator", "Stellenangebote", "Advertisement",
                     "Share this article", "12.11.2024 08:09", "Verwandte Artikel", "Sign up for our newsletter",
                     "- Die besten Bücher rund um KI!", "Es werden alle Kommentare moderiert!"]


def assert_lossless(cleaned: Cleaned) -> None:
    record = build_record(cleaned, "2024-01-01T00:00:00Z", {})
    source = cleaned.document.text
    spans = record["metadata"]["kept"] + record["metadata"]["removed"] + record["metadata"]["duplicates"]
    spans.sort(key=lambda s: s["chars"][0])
    position = 0
    for span in spans:
        assert span["chars"][0] == position, "spans must tile the source without gaps or overlaps"
        position = span["chars"][1]
    assert position == len(source)
    assert rebuild_source(record) == source
    kept = "".join(source[s["chars"][0]:s["chars"][1]] for s in record["metadata"]["kept"])
    assert kept == record["text"]
    for span in record["metadata"]["removed"]:
        assert span["text"] == source[span["chars"][0]:span["chars"][1]]
        assert span["rule"] and span["category"]
    json.loads(json.dumps(record, ensure_ascii=False))


def test_seeds_are_lossless(document_cleaner: DocumentCleaner) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        assert_lossless(document_cleaner.clean(make_document(path.read_text(encoding="utf-8"), path=path.name)))


def test_line_numbers_follow_every_line_ending() -> None:
    lines = segment("a\r\nb\rc\n\nd")
    assert [(l.number, l.text) for l in lines] == [(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]
    assert "".join("a\r\nb\rc\n\nd"[l.start:l.end] for l in lines) == "a\r\nb\rc\n\nd"


def test_blank_lines_around_removals_keep_paragraph_breaks(document_cleaner: DocumentCleaner) -> None:
    text = "Erster Absatz mit Inhalt.\n\nAnzeige\n\nZweiter Absatz mit Inhalt.\n\nAnzeige\n"
    cleaned = clean_text(document_cleaner, text)
    assert cleaned.clean_text() == "Erster Absatz mit Inhalt.\n\nZweiter Absatz mit Inhalt.\n\n"[:-1]
    assert_lossless(cleaned)


def test_all_lines_removed_gives_empty_text(document_cleaner: DocumentCleaner) -> None:
    cleaned = clean_text(document_cleaner, "\n\nadministrator\n\n12.11.2024 08:09\n\n")
    assert cleaned.clean_text() == ""
    assert_lossless(cleaned)


line_text = st.one_of(st.sampled_from(BOILERPLATE_LINES), st.text(max_size=80).map(lambda s: s.replace("\r", "")
                                                                                       .replace("\n", "")), st.just(""))
newline = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = draw(st.lists(line_text, max_size=25))
    ends = draw(st.lists(newline, min_size=len(lines), max_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, ends))
    return text[:-1] if draw(st.booleans()) and text else text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents())
def test_any_text_is_rebuilt_exactly(document_cleaner: DocumentCleaner, text: str) -> None:
    assert_lossless(document_cleaner.clean(make_document(text)))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), picks=st.lists(st.integers(0, 40), max_size=10))
def test_arbitrary_claims_stay_lossless(text: str, picks: list[int]) -> None:
    cleaned = Cleaned.start(make_document(text))
    for pick in picks:
        if cleaned.lines:
            cleaned.claim(pick % len(cleaned.lines), Claim(f"test.rule{pick % 3}", "test"))
    assert_lossless(cleaned)
