"""The shipped rule packs on article dumps from sites other than the seeds', in German and English.

Fixtures come in pairs: NAME.txt is the dump as a scraper wrote it, NAME.expected.txt the exact
clean text. `tune/` is what the rules were written against and must match exactly; `heldout/`
was written before tuning from other sites and measures how the rules generalise: content
kept must stay near 100% (losing article text is worse than leaving boilerplate in), and
exact matches are asserted where they hold, with known misses marked xfail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from cleaner.document import Cleaned, Document, Source
from cleaner.filters.examples import load_checked_rules
from cleaner.stages import DocumentCleaner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "sites"
TUNE = sorted(p for p in (FIXTURES / "tune").glob("*.txt") if not p.name.endswith(".expected.txt"))
HELDOUT = sorted(p for p in (FIXTURES / "heldout").glob("*.txt") if not p.name.endswith(".expected.txt"))

# Heldout dumps the shipped rules do not yet clean exactly; each reason names what is left in.
# These are reported, not tuned away: the heldout set must stay unseen by the rule author.
HELDOUT_MISSES: dict[str, str] = {
    "de-finanzblick": "leaves the '|' breadcrumb, the 'DD.MM.YYYY | HH:MM' stamp, 'dpa-AFX', the 'Weitere News zu' "
                      "teaser block, the investment disclaimer and the quote-source line",
    "de-nordwelle": "leaves 'Bild vergrößern', the 'Dieses Thema im Programm:' note and the "
                    "'Schlagwörter zu diesem Artikel' tag list",
    "en-kxtv": "leaves 'Author: ... (KXTV)', 'WATCH:' and the app-download prompt",
    "de-tagesbote": "leaves 'Zur Merkliste hinzufügen', 'Exklusiv für Abonnenten' and the last read-also "
                    "title (a short line right above prose is taken for that prose's heading)",
    "en-byteledger": "leaves the affiliate disclosure ('When you purchase through links on our site...') "
                     "and the 'Recommended Videos' / \"Editors' Recommendations\" teaser block",
    "en-meridian": "leaves 'Illustration by ...', the print-edition note and 'Subscribe to The Meridian'",
    "en-yorkshire-echo": "leaves the newsletter privacy notice ('We use your sign-up to provide content...') "
                         "and 'Bookmark'",
}


@pytest.fixture(scope="module")
def cleaner() -> DocumentCleaner:
    return DocumentCleaner(load_checked_rules([ROOT / "rules"]))


def clean(cleaner: DocumentCleaner, dump: Path) -> Cleaned:
    data = dump.read_bytes()
    source = Source(path=dump.name, root=dump.parent.name, sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data), format="txt")
    return cleaner.clean(Document(dump.stem, data.decode("utf-8"), source))


def expected_text(dump: Path) -> str:
    return dump.with_name(dump.stem + ".expected.txt").read_text(encoding="utf-8")


@dataclass(frozen=True)
class LineFigures:
    """Line-level counts for one dump: which lines are boilerplate and what the rules did."""

    boilerplate: int
    boilerplate_removed: int
    content: int
    content_kept: int
    lost: tuple[str, ...]  # content lines the rules removed


def line_figures(cleaned: Cleaned, expected: str) -> LineFigures:
    """Label each non-blank dump line by the expected text (which is a subsequence of the dump)."""
    wanted = [line for line in expected.splitlines() if line.strip()]
    position = 0
    boilerplate = removed = content = kept = 0
    lost: list[str] = []
    for line, claim in zip(cleaned.lines, cleaned.claims):
        if line.blank:
            continue
        if position < len(wanted) and line.text == wanted[position]:
            position += 1
            content += 1
            if claim is None:
                kept += 1
            else:
                lost.append(f"{line.text[:60]!r} ({claim.rule})")
        else:
            boilerplate += 1
            removed += claim is not None
    assert position == len(wanted), "expected text is not a subsequence of the dump"
    return LineFigures(boilerplate, removed, content, kept, tuple(lost))


def test_fixture_sets_are_large_enough() -> None:
    assert len(TUNE) >= 6 and len(HELDOUT) >= 6
    for dump in TUNE + HELDOUT:
        assert dump.with_name(dump.stem + ".expected.txt").is_file(), dump


@pytest.mark.parametrize("dump", TUNE, ids=lambda p: p.stem)
def test_tune_fixture_is_cleaned_exactly(cleaner: DocumentCleaner, dump: Path) -> None:
    assert clean(cleaner, dump).clean_text() == expected_text(dump)


@pytest.mark.parametrize("dump", HELDOUT, ids=lambda p: p.stem)
def test_heldout_fixture_keeps_content(cleaner: DocumentCleaner, dump: Path) -> None:
    figures = line_figures(clean(cleaner, dump), expected_text(dump))
    assert figures.content_kept / figures.content >= 0.98, f"content lost: {figures.lost}"


@pytest.mark.parametrize("dump", [
    pytest.param(p, marks=pytest.mark.xfail(reason=HELDOUT_MISSES[p.stem], strict=True))
    if p.stem in HELDOUT_MISSES else p for p in HELDOUT], ids=lambda p: p.stem)
def test_heldout_fixture_is_cleaned_exactly(cleaner: DocumentCleaner, dump: Path) -> None:
    assert clean(cleaner, dump).clean_text() == expected_text(dump)


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_overall_figures(cleaner: DocumentCleaner, split: str) -> None:
    """Across a split, no content is lost on tune and at most 2% on heldout; prints both figures."""
    dumps = TUNE if split == "tune" else HELDOUT
    totals = [line_figures(clean(cleaner, d), expected_text(d)) for d in dumps]
    boilerplate = sum(f.boilerplate for f in totals)
    removed = sum(f.boilerplate_removed for f in totals)
    content = sum(f.content for f in totals)
    kept = sum(f.content_kept for f in totals)
    print(f"\n{split}: boilerplate removed {removed}/{boilerplate} ({removed / boilerplate:.1%}), "
          f"content kept {kept}/{content} ({kept / content:.1%})")
    assert kept / content >= (1.0 if split == "tune" else 0.98)


# Content that looks like boilerplate: each line sits between paragraphs of a real article and
# must survive every shipped rule (a rule that fires on content is a bug).
LOOKALIKES_DE = [
    'Lesen Sie auch den Bericht unserer Kollegen aus Hamburg, der die Zahlen einordnet.',
    'Mehr zum Thema Wohnungsbau erfahren Sie in unserem Dossier.',
    'Anzeige erstattet hat die Mutter des Jungen bereits am Dienstag.',
    'Werbung für Alkohol soll im Umfeld von Schulen verboten werden.',
    'Der Newsletter der Stadt erreicht inzwischen 12.000 Haushalte.',
    'Wir verwenden Cookies nur, wenn Sie zustimmen, versprach der Minister im Landtag.',
    'Kommentare im Netz beschäftigen die Staatsanwaltschaft seit Wochen.',
    'Die wichtigsten Punkte im Überblick:',
    'Was Eltern jetzt wissen müssen',
    'Teilen sich zwei Familien eine Wohnung, gilt eine Sonderregel.',
    'Foto: Die Aufnahme zeigt den Moment, in dem die Brücke einstürzte, und ging um die Welt.',
    'Von Montag an gilt auf der A1 ein Tempolimit.',
    'Abonnieren kann man die Zeitung inzwischen auch für einen Monat.',
    'Zum Thema Rente sagte der Kanzler nichts.',
    'Weitere Informationen will die Polizei am Nachmittag bekanntgeben.',
    'Datenschutz ist für viele Nutzer ein wichtiges Thema, zeigt eine Umfrage.',
    'Jetzt testen die Stadtwerke ein neues Tarifmodell in drei Stadtteilen.',
    'Stellenangebote in der Pflege bleiben oft monatelang unbesetzt, sagt die Agentur.',
    'Quelle der Zahlen ist das Statistische Bundesamt, das sie am Freitag veröffentlichte.',
    'Kommentar',
    'Tipps der Polizei',
]
LOOKALIKES_EN = [
    "Read more about the ruling in the court's 40-page opinion, published on Friday.",
    'Advertising revenue fell 4% in the quarter, the company said.',
    'Sign up sheets for the volunteer program filled within an hour.',
    'The newsletter business has grown rapidly since 2020, with thousands of writers charging subscribers.',
    'We use cookies, the banner said, a phrase the regulator called misleading.',
    'Share prices fell 3% on Monday after the announcement.',
    'Comments from the mayor drew criticism from both parties.',
    'Related research shows that the effect persists for years.',
    'By Monday, the storm had moved east.',
    'Subscribe to the idea that less is more, and the house feels bigger.',
    'Photo: The image shows the moment the bridge collapsed and went around the world.',
    'What you need to know',
    'Next steps for the council',
    'Most read books of the year were thrillers, the library said.',
    'Accept all the help you can get, she told the graduates.',
    'Follow the money, the investigator said, and the story tells itself.',
    'Trending topics on the platform included the election and the weather.',
    'Updated figures from the census will be published in May.',
    'Posted in Germany for three years, the officer returned in 2019.',
    'Editing by hand took the team another two weeks.',
]
_PROSE = {
    "de": ("Der Stadtrat hat am Donnerstag mit großer Mehrheit einen neuen Haushalt beschlossen, der deutlich "
           "mehr Geld für Schulen vorsieht.",
           "Die Opposition kündigte an, gegen einzelne Posten juristisch vorzugehen, und forderte eine neue "
           "Debatte im Rat."),
    "en": ("The city council on Thursday approved a new budget that sets aside significantly more money for "
           "schools and parks.",
           "The opposition said it would challenge several items in court and called for a fresh debate in "
           "the chamber."),
}


@pytest.mark.parametrize(("lang", "line"), [("de", line) for line in LOOKALIKES_DE]
                         + [("en", line) for line in LOOKALIKES_EN])
def test_content_that_resembles_boilerplate_is_kept(cleaner: DocumentCleaner, tmp_path: Path,
                                                     lang: str, line: str) -> None:
    before, after = _PROSE[lang]
    dump = tmp_path / "article.txt"
    dump.write_text("\n".join([before] * 3 + [line] + [after] * 3) + "\n", encoding="utf-8")
    cleaned = clean(cleaner, dump)
    assert cleaned.lang == lang
    assert cleaned.claims[3] is None, f"removed by {cleaned.claims[3]}"
