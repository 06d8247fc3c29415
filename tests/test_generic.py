from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.document import Claim, Cleaned, Document, Source
from cleaner.filters.generic import GenericConfigError, classify, load_generic_config
from cleaner.filters.language import LanguageDetection, make_detector

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "generic"
SEEDS = HERE.parent / "seeds"
CONFIG = load_generic_config()
DETECTOR = make_detector("py3langid")


def cleaned(text: str, lang: str | None = None) -> Cleaned:
    source = Source("doc.txt", "in", "0" * 64, len(text.encode()), "txt")
    doc = Cleaned.start(Document("doc", text, source))
    if lang is None:
        LanguageDetection(DETECTOR).apply(doc)
    else:
        doc.lang = lang
    return doc


def labelled(path: Path) -> tuple[str, list[str | None]]:
    """A fixture line is 'C| text' (content), 'B| text' (boilerplate) or blank."""
    lines, labels = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            lines.append("")
            labels.append(None)
            continue
        assert raw[:3] in ("C| ", "B| "), f"{path}:{number}: line must start with 'C| ' or 'B| '"
        lines.append(raw[3:])
        labels.append(raw[0])
    return "\n".join(lines) + "\n", labels


def scores(folder: str) -> tuple[float, float]:
    """(share of boilerplate lines removed, share of content lines kept) over a fixture folder."""
    boilerplate = removed = content = kept = 0
    for path in sorted((FIXTURES / folder).glob("*.txt")):
        text, labels = labelled(path)
        doc = cleaned(text)
        classify(doc, CONFIG)
        for label, claim in zip(labels, doc.claims):
            if label == "B":
                boilerplate += 1
                removed += claim is not None
            elif label == "C":
                content += 1
                kept += claim is None
    return removed / boilerplate, kept / content


@pytest.mark.parametrize("folder", ["tune", "heldout"])
def test_fixture_sets_keep_content_and_remove_most_boilerplate(folder):
    sites = list((FIXTURES / folder).glob("*.txt"))
    assert len(sites) >= 3 and {p.name[:3] for p in sites} == {"de_", "en_"}
    removed, kept = scores(folder)
    assert kept >= 0.98, f"{folder}: content kept {kept:.3f}"
    assert removed >= 0.75, f"{folder}: boilerplate removed {removed:.3f}"


def test_tune_and_heldout_are_different_sites():
    tune = {p.stem for p in (FIXTURES / "tune").glob("*.txt")}
    heldout = {p.stem for p in (FIXTURES / "heldout").glob("*.txt")}
    assert len(tune | heldout) >= 6 and not tune & heldout


# Seed lines that are boilerplate; every other non-blank seed line is content and must stay.
SEED_BOILERPLATE = {
    "001_3f014d1e3b49df7b.txt": "- Die besten Bücher rund um KI & Robotik!",  # from here to the end
    "002_2caaf5cc376c87f8.txt": "administrator",
    "003_31bc555e087dc2ac.txt": None,
}
SEED_LINES = {"Gerade lesen andere", "Lesen Sie auch", "Verwandte Artikel", "administrator"}


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_every_seed_content_line_is_kept(seed):
    doc = cleaned(seed.read_text(encoding="utf-8"))
    classify(doc, CONFIG)
    tail = SEED_BOILERPLATE.get(seed.name)
    in_tail = False
    for line, claim in zip(doc.lines, doc.claims):
        in_tail = in_tail or (tail is not None and line.text == tail)
        if claim is not None:
            assert in_tail or line.text in SEED_LINES or line.text.startswith("Dieser Artikel wurde von"), line.text


def test_heading_date_list_and_table_inside_content_are_kept():
    paragraph = (
        "Die Stadt hat am Dienstag beschlossen, die Brücke über den Fluss bis zum Herbst vollständig zu sanieren, "
        "weil die Prüfer erhebliche Schäden an den Trägern gefunden haben."
    )
    text = "\n".join(
        [
            "Teilen",
            "Sanierung der Brücke beginnt",
            paragraph,
            "12.03.2025",
            paragraph,
            "Die wichtigsten Termine:",
            "- Abriss im Frühjahr",
            "- Neubau im Sommer",
            "| Abschnitt | Beginn |",
            "| Nord | April |",
            paragraph,
            "Facebook",
            "Twitter",
        ]
    )
    doc = cleaned(text, "de")
    classify(doc, CONFIG)
    removed = [line.text for line, claim in zip(doc.lines, doc.claims) if claim is not None]
    assert removed == ["Teilen", "Facebook", "Twitter"]


def test_title_above_a_share_bar_is_kept_but_a_masthead_above_navigation_is_not():
    lead = (
        "The council voted on Tuesday night to approve the plan for the harbour after a long debate "
        "that lasted more than two years."
    )
    doc = cleaned(f"Council approves harbour plan\nShare\nTweet\nEmail\n{lead}\n", "en")
    classify(doc, CONFIG)
    assert doc.claims[0] is None and all(claim is not None for claim in doc.claims[1:4])
    doc = cleaned(f"The Harbour Times\nHome | News | Sport\nSign in\nCouncil approves harbour plan\n{lead}\n", "en")
    classify(doc, CONFIG)
    assert [claim is not None for claim in doc.claims] == [True, True, True, False, False]


def test_claims_carry_signal_features_and_score():
    text = "Startseite > Politik > Inland\nNewsletter\n" + "Der Bundestag hat die Reform der Schuldenbremse mit knapper Mehrheit beschlossen und damit den Weg frei gemacht.\n"
    doc = cleaned(text, "de")
    classify(doc, CONFIG)
    nav, word = doc.claims[0], doc.claims[1]
    assert nav.rule == "generic.navigation" and nav.category == "generic"
    assert nav.detail["features"]["separators"] == 2 and 0.0 <= nav.detail["score"] <= 1.0
    assert word.rule == "generic.vocabulary"
    assert doc.claims[2] is None


def test_short_line_between_boilerplate_goes_and_earlier_claims_count_as_boilerplate():
    paragraph = "The council voted on Tuesday night to approve the plan for the harbour after a long and heated debate."
    doc = cleaned(f"{paragraph}\nShare\nPocket\nSubscribe\n{paragraph}\nRandom widget line\n", "en")
    doc.claim(5, Claim("site.widget", "promo"))
    classify(doc, CONFIG)
    assert doc.claims[2].rule == "generic.context"
    assert doc.claims[5].rule == "site.widget"  # first claim wins, generic does not overwrite


def test_unknown_language_uses_all_vocabularies():
    doc = cleaned("Newsletter abonnieren\nSign up for our newsletter\n", "und")
    classify(doc, CONFIG)
    assert all(claim is not None for claim in doc.claims)


def test_classify_is_deterministic():
    text, _ = labelled(FIXTURES / "tune" / "en_daily_meridian.txt")
    runs = []
    for _ in range(2):
        doc = cleaned(text)
        classify(doc, CONFIG)
        runs.append(doc.claims)
    assert runs[0] == runs[1]


def _config_dir(tmp_path: Path, settings: str, vocabulary: str = 'language = "de"\n') -> Path:
    (tmp_path / "settings.toml").write_text(settings, encoding="utf-8")
    (tmp_path / "de.toml").write_text(vocabulary, encoding="utf-8")
    return tmp_path


SETTINGS = (FIXTURES.parents[1] / ".." / "rules" / "generic" / "settings.toml").resolve().read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("settings", "vocabulary", "message"),
    [
        (SETTINGS.replace("good_words = 12", 'good_words = "12"'), 'language = "de"', "[length] good_words must be a non-negative int"),
        (SETTINGS.replace("good_words = 12", "good_words = 1.5"), 'language = "de"', "[length] good_words must be a non-negative int"),
        (SETTINGS + "\n[length2]\nx = 1\n", 'language = "de"', "unknown setting [length2] x"),
        (SETTINGS.replace("good_words = 12", ""), 'language = "de"', "missing setting [length] good_words"),
        (SETTINGS, 'language = "en"', "de.toml: language must be the file's name 'de'"),
        (SETTINGS, 'language = "de"\nlines = "Menü"', "de.toml: lines must be a list of non-empty strings"),
        (SETTINGS, 'language = "de"\nwords = []', "de.toml: unknown key 'words'"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, settings, vocabulary, message):
    with pytest.raises(GenericConfigError) as error:
        load_generic_config(_config_dir(tmp_path, settings, vocabulary))
    assert message in str(error.value) and str(tmp_path) in str(error.value) and "\n" not in str(error.value)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=12), st.sampled_from(["de", "en", "und", "fr"]))
def test_any_text_is_classified_without_error(lines, lang):
    doc = cleaned("\n".join(lines), lang)
    classify(doc, CONFIG)
    for line, claim in zip(doc.lines, doc.claims):
        assert claim is None or (claim.category == "generic" and not line.blank)
