import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_document
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.document import Claim, Cleaned, Document, Rejection, Source
from cleaner.filters.language import (
    DETECTORS,
    LangdetectDetector,
    LanguageDetection,
    language_rejection,
    make_detector,
    mark_foreign_paragraphs,
    sample,
)

REPO = Path(__file__).resolve().parents[1]

GERMAN = (
    "Der Bundestag hat am Freitag mit knapper Mehrheit eine Reform der Schuldenbremse beschlossen. "
    "Künftig sollen Investitionen in die Infrastruktur teilweise von der Regel ausgenommen werden, "
    "was die Opposition scharf kritisierte."
)
ENGLISH = (
    "The central bank left its benchmark interest rate unchanged on Wednesday, saying that inflation "
    "was falling more slowly than it had hoped and that it needed more evidence before cutting rates."
)


def cleaned(text: str) -> Cleaned:
    source = Source("doc.txt", "in", "0" * 64, len(text.encode()), "txt")
    return Cleaned.start(Document("doc", text, source))


_DETECTORS = {name: make_detector(name) for name in DETECTORS}


@pytest.fixture(params=sorted(DETECTORS))
def detector(request):
    return _DETECTORS[request.param]


def test_detects_german_and_english(detector):
    assert detector.detect(GERMAN)[0] == "de"
    assert detector.detect(ENGLISH)[0] == "en"
    lang, score = detector.detect(GERMAN)
    assert 0.9 <= score <= 1.0 and round(score, 4) == score


@pytest.mark.parametrize("text", ["", "   ", "Hallo", "12345 67890 !!! ??? 2024-11-12 08:09"])
def test_too_short_or_letterless_is_unknown(detector, text):
    assert detector.detect(text) == ("und", 0.0)


def test_sample_is_bounded_on_a_word_boundary():
    text = "Wort " * 1000
    cut = sample(text, 102)
    assert len(cut) <= 102 and cut.endswith("Wort") and not cut.endswith(" ")
    assert sample("  kurz  ", 100) == "kurz"


def test_only_the_sample_is_read(detector):
    # German first, then far more English: a bounded detector only ever sees the German part.
    bounded = type(detector)(sample_chars=len(GERMAN))
    assert bounded.detect(GERMAN + " " + ENGLISH * 20)[0] == "de"


def test_restricting_languages(detector):
    restricted = type(detector)(languages={"de", "en"})
    dutch = restricted.detect("Het kabinet heeft dinsdag besloten om de belasting op arbeid te verlagen.")[0]
    if detector.name == "cld2":
        assert dutch == "und"  # CLD2 cannot choose among fewer languages: it reports only those
    else:
        assert dutch in {"de", "en"}  # Dutch is not a candidate any more: it has to be called de or en
    with pytest.raises(ValueError, match="xx"):
        type(detector)(languages={"de", "xx"})


def test_unknown_detector_name():
    with pytest.raises(ValueError, match="unknown language detector 'cld9'"):
        make_detector("cld9")


def test_langdetect_is_deterministic_in_process_and_across_processes():
    import langdetect

    ambiguous = "Moskau Kiew Trump Putin Selenskyj Washington Budapest Gipfel summit talks"
    first = LangdetectDetector().detect(ambiguous)
    langdetect.DetectorFactory.seed = 12345  # the library's global seed must not matter
    assert [LangdetectDetector().detect(ambiguous) for _ in range(3)] == [first] * 3
    code = (
        "from cleaner.filters.language import LangdetectDetector;"
        f"print(LangdetectDetector().detect({ambiguous!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == repr(first)


def test_language_is_read_from_kept_lines_only(detector):
    doc = cleaned(f"{ENGLISH}\n{ENGLISH}\n{GERMAN}\n")
    doc.claim(0, Claim("x", "cookie"))
    doc.claim(1, Claim("x", "cookie"))
    LanguageDetection(detector).apply(doc)
    assert doc.lang == "de" and doc.lang_score > 0.9


def test_document_keeps_the_language_of_its_clean_text(document_cleaner):
    """With "Read more" the byline reads as English; the English rules remove it, and then
    nothing tells the language, so every language's rules apply, the German byline rule's too:
    cleaning the clean text again must meet the rules the first pass ended with."""
    first = document_cleaner.clean(make_document("Von Anna Muster\nRead more\n"))
    assert (first.lang, [claim.rule if claim else None for claim in first.claims]) == (
        "und", ["de.byline.von", "en.teaser.read-also"])


def test_foreign_paragraph_removed_short_quote_left(detector):
    quote = "Auf Englisch sagte er nur: Make America great again."
    doc = cleaned(f"{GERMAN}\n\n{ENGLISH}\n{quote}\n{GERMAN}\n")
    LanguageDetection(detector).apply(doc)
    assert mark_foreign_paragraphs(doc, detector, policy="remove") == [2]
    claim = doc.claims[2]
    assert claim.rule == "language.foreign" and claim.category == "foreign_language"
    assert claim.detail["lang"] == "en" and claim.detail["score"] >= 0.99
    assert doc.claims[3] is None and doc.claims[0] is None


def test_german_paragraph_quoting_english_titles_is_not_foreign(detector):
    quoting = (
        "Die Band spielte am Abend Songs wie „Yesterday“, „Let It Be“ und „Hey Jude“, bevor sie sich "
        "nach einer langen Zugabe beim Publikum in der ausverkauften Halle verabschiedete."
    )
    doc = cleaned(f"{GERMAN}\n{quoting}\n{GERMAN}\n")
    LanguageDetection(detector).apply(doc)
    assert mark_foreign_paragraphs(doc, detector, policy="remove") == []


def test_foreign_paragraph_keep_policy_only_reports(detector):
    doc = cleaned(f"{GERMAN}\n{ENGLISH}\n{GERMAN}\n")
    LanguageDetection(detector).apply(doc)
    assert mark_foreign_paragraphs(doc, detector, policy="keep") == [1]
    assert doc.claims == [None, None, None]
    with pytest.raises(ValueError, match="policy"):
        mark_foreign_paragraphs(doc, detector, policy="drop")


def test_language_rejection():
    doc = cleaned(ENGLISH)
    doc.lang, doc.lang_score = "en", 0.9876
    assert language_rejection(doc, {"de", "en"}) is None
    assert language_rejection(doc, {"de"}) == Rejection("language", {"lang": "en", "score": 0.9876, "allowed": ["de"]})
    doc.lang, doc.lang_score = "und", 0.0
    assert language_rejection(doc, {"de", "en"}).detail["lang"] == "und"


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_code_and_a_probability(text):
    for name in sorted(DETECTORS):
        lang, score = _DETECTORS[name].detect(text)
        assert isinstance(lang, str) and lang and 0.0 <= score <= 1.0

