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
from cleaner.pipeline import DocumentCleaner
from cleaner.rules.examples import load_checked_rules

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
