"""The learned line classifier: features, the model file, removals with their evidence, stability."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_document, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.document import Cleaned
from cleaner.filters.classifier import (
    FEATURES,
    RULE_ID,
    ClassifierSettings,
    Lexicon,
    LineClassifier,
    ModelError,
    default_model_path,
    document_features,
    load_model,
)
from cleaner.stages import DocumentCleaner, StageSettings
from cleaner.writers.record import build_record

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "classifier"
PAGE = (FIXTURES / "page_en.txt").read_text(encoding="utf-8")
ARTICLES = sorted(FIXTURES.glob("article_*.txt"))
LEXICON = Lexicon()
CLASSIFIER = LineClassifier(lexicon=LEXICON)


def start(text: str, lang: str) -> Cleaned:
    cleaned = Cleaned.start(make_document(text))
    cleaned.lang = lang
    return cleaned


def feature(x: np.ndarray, row: int, name: str) -> float:
    return float(x[row, FEATURES.index(name)])


def test_features_of_a_real_page_describe_menu_article_and_footer() -> None:
    lines = PAGE.splitlines()
    x = document_features(lines, "en", LEXICON)
    assert x.shape == (len(lines), len(FEATURES))
    home, headline, first_paragraph, quote = 0, 7, 8, 11
    privacy, follow = lines.index("Privacy policy"), lines.index("Follow us on Facebook")
    assert feature(x, home, "lexicon_line") == 1.0  # "Home" is a whole-line entry of rules/generic/en.toml
    assert feature(x, home, "before_core") == 1.0 and feature(x, home, "first") == 1.0
    assert feature(x, home, "core_lines") == pytest.approx(np.log1p(first_paragraph - home))
    assert feature(x, first_paragraph, "in_core") == 1.0 and feature(x, first_paragraph, "prose") == 1.0
    assert feature(x, first_paragraph, "stop_density") > 0.3  # running English text
    assert feature(x, quote, "terminal") == 1.0  # ends with ." as quoted speech does
    assert feature(x, headline, "short_before_prose") == 0.0  # seven words: not short ...
    assert feature(x, headline, "next_prose") == 1.0  # ... but prose follows it
    assert feature(x, privacy, "lexicon_phrases") == 1.0 and feature(x, privacy, "after_core") == 1.0
    assert feature(x, follow, "lexicon_phrases") == 1.0 and feature(x, follow, "last") == 0.0
    assert feature(x, follow + 1, "last") == 1.0
    assert feature(x, home, "has_stop_list") == 1.0


def test_shapes_repetition_and_scripts_without_a_stop_list() -> None:
    lines = ["• Erste Zeile einer Liste", "Start | Politik | Sport", "Start | Politik | Sport", "| 2021 | 9 | 610 |",
             "© 2024 Beispiel Verlag", "Aktualisiert am 12.04.2024"]
    x = document_features(lines, "de", LEXICON)
    assert feature(x, 0, "bullet") == 1.0
    assert feature(x, 1, "separators") >= 2 and feature(x, 1, "repeats") == pytest.approx(np.log1p(1))
    assert feature(x, 3, "table_row") == 1.0 and feature(x, 3, "digit_share") > 0.3
    assert feature(x, 4, "copyright") == 1.0
    assert feature(x, 5, "date") == 1.0 and feature(x, 5, "lexicon_byline") == 1.0
    chinese = ["北京市政府周一宣布，将在未来三年内新建二十所公立学校，以缓解城区学位紧张的问题。", "首页"]
    x = document_features(chinese, "zh", LEXICON)
    assert feature(x, 0, "has_stop_list") == 0.0 and feature(x, 0, "stop_density") == 0.0  # neutral, not "no stop words"
    assert feature(x, 0, "log_words") > feature(x, 1, "log_words") > 0  # words counted without spaces
    assert feature(x, 0, "terminal") == 1.0


def test_shipped_model_loads_and_names_the_features_the_code_computes() -> None:
    model = load_model()
    assert model.weights.shape == (len(FEATURES),)
    assert 0.5 <= model.threshold < 1
    data = json.loads(default_model_path().read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES) and len(data["training"]["digest"]) == 64


@pytest.mark.parametrize(("change", "message"), [
    (lambda text, data: "{not json", "not a valid line-classifier model (bad JSON"),
    (lambda text, data: json.dumps({**data, "format": "other"}), "not a line-classifier model"),
    (lambda text, data: json.dumps({**data, "version": 99}), "model version 99"),
    (lambda text, data: json.dumps({**data, "features": data["features"][:-1]}), "retrain it"),
    (lambda text, data: json.dumps({**data, "weights": data["weights"][:3]}), "weights must be a list of"),
    (lambda text, data: json.dumps({**data, "scale": [0.0] * len(data["scale"])}), "scale must be positive"),
    (lambda text, data: json.dumps({**data, "threshold": 1.5}), "threshold must be a number between 0 and 1"),
    (lambda text, data: json.dumps({**data, "bias": "high"}), "bias must be a finite number"),
])
def test_a_bad_model_file_is_a_one_line_error_naming_the_file(tmp_path: Path, change, message: str) -> None:
    text = default_model_path().read_text(encoding="utf-8")
    path = tmp_path / "line_classifier.json"
    path.write_text(change(text, json.loads(text)), encoding="utf-8")
    with pytest.raises(ModelError) as error:
        load_model(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=f"^{tmp_path / 'none.json'}: cannot read"):
        load_model(tmp_path / "none.json")


def test_a_removal_records_its_score_threshold_and_the_features_that_decided_it() -> None:
    cleaned = start(PAGE, "en")
    assert CLASSIFIER.apply(cleaned) >= 3
    removed = {line.text: claim for line, claim in zip(cleaned.lines, cleaned.claims) if claim is not None}
    assert {"Home", "News", "Sport", "Privacy policy"} <= set(removed)
    assert not set(removed) & set(PAGE.splitlines()[7:13])  # the headline and the article
    claim = removed["Home"]
    assert (claim.rule, claim.category) == (RULE_ID, "classifier")
    assert claim.detail["score"] > claim.detail["threshold"] == CLASSIFIER.threshold
    assert 0 < len(claim.detail["features"]) <= 4 and set(claim.detail["features"]) <= set(FEATURES)
    contributions = list(claim.detail["contributions"].values())
    assert contributions == sorted(contributions, reverse=True) and contributions[0] > 0
    record = build_record(cleaned, "2024-01-01T00:00:00Z", {})
    span = next(s for s in record["metadata"]["removed"] if s["text"].startswith("Home"))
    assert span["rule"] == RULE_ID and span["score"] == claim.detail["score"] and span["features"]


def test_explain_shows_the_score_and_features_of_a_classifier_removal(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    assert run_cli("explain", page, "--no-default-rules", "--color", "never") == 0
    out = capsys.readouterr().out.splitlines()
    home = next(i for i, line in enumerate(out) if line.endswith("│ Home"))
    assert RULE_ID in out[home]
    assert "└ score 0." in out[home + 1] and f"> {CLASSIFIER.threshold}" in out[home + 1] and "=" in out[home + 1]
    assert run_cli("explain", page, "--no-default-rules", "--json") == 0
    lines = json.loads(capsys.readouterr().out)["lines"]
    assert lines[0]["rule"] == RULE_ID and lines[0]["score"] > CLASSIFIER.threshold and lines[0]["features"]
    assert run_cli("explain", page, "--no-default-rules", "--json", "--no-classifier") == 0
    assert all(line["kept"] for line in json.loads(capsys.readouterr().out)["lines"])


def test_a_run_records_the_classifier_settings_and_explains_from_the_record(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.txt").write_text(PAGE, encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("clean", tmp_path / "in", "-o", out, "-q", "--no-default-rules", "--classifier-threshold", "0.8") == 0
    record = json.loads((out / "documents.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert record["metadata"]["pipeline"]["settings"]["classifier"] is True
    assert record["metadata"]["pipeline"]["settings"]["classifier_threshold"] == 0.8
    assert run_cli("explain", "page.txt", "--run", out, "--json") == 0
    lines = json.loads(capsys.readouterr().out)["lines"]
    assert lines[0]["rule"] == RULE_ID and lines[0]["threshold"] == 0.8 and lines[0]["score"] > 0.8


def test_classifier_threshold_must_be_a_probability(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli("explain", "x.txt", "--classifier-threshold", "1.5")
    assert "must be in (0, 1)" in capsys.readouterr().err


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_the_shipped_threshold_keeps_article_sentences_headings_lists_and_tables(shipped_rules, path: Path) -> None:
    """Content that looks like boilerplate to a single-line view: headings ("Key takeaways",
    "Fazit"), short list items, table rows, a one-line closing paragraph."""
    cleaned = DocumentCleaner(shipped_rules).clean(make_document(path.read_text(encoding="utf-8")))
    removed = [line.text for line, claim in zip(cleaned.lines, cleaned.claims) if claim and claim.rule == RULE_ID]
    assert removed == []


def test_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i, path in enumerate([*ARTICLES, FIXTURES / "page_en.txt"] * 3):
        (inputs / f"{i:02d}-{path.name}").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        # Without rules, so that the classifier meets the menus (rule packs may take them first).
        assert run_cli("clean", inputs, "-o", out, "-q", "--no-dedup", "--no-default-rules", "--workers", workers) == 0
        records = [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
        outputs.append([{key: value for key, value in record.items() if key != "added"} for record in records])
    assert outputs[0] == outputs[1]
    assert any(span["rule"] == RULE_ID for record in outputs[0] for span in record["metadata"]["removed"])


def test_no_classifier_turns_it_off(shipped_rules) -> None:
    cleaned = DocumentCleaner(shipped_rules, StageSettings(classifier=ClassifierSettings(enabled=False))).clean(make_document(PAGE))
    assert all(claim is None or claim.rule != RULE_ID for claim in cleaned.claims)


# Lines of every kind the classifier meets: prose, headings, menus, teasers, credits, scripts.
POOL = [*PAGE.splitlines(), *(line for path in ARTICLES for line in path.read_text(encoding="utf-8").splitlines()),
        "Share", "Read more", "Anzeige", "Mehr zum Thema", "Foto: dpa", "", "北京市政府周一宣布新建学校。"]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.sampled_from(POOL), max_size=40), threshold=st.sampled_from([0.2, 0.5, 0.73, 0.9]),
       lang=st.sampled_from(["en", "de", "und"]))
def test_the_classifier_is_stable_on_its_own_output(lines: list[str], threshold: float, lang: str) -> None:
    """Run until a round removes nothing (as the rules' fixed point runs it), reading only kept
    lines: the clean text, cleaned again, has the same features and loses nothing."""
    classifier = LineClassifier(CLASSIFIER.model, threshold, LEXICON)
    cleaned = start("\n".join(lines) + "\n", lang)
    while classifier.apply(cleaned):  # ends: every round that goes on has claimed a line
        pass
    again = start(cleaned.clean_text(), lang)
    assert classifier.apply(again) == 0
