from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.document import Claim, Cleaned, Document, Rejection, Source
from cleaner.filters.quality import (
    HEURISTICS,
    QualityConfigError,
    judge,
    load_quality_config,
    preset_path,
)

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def cleaned(text: str, lang: str = "de") -> Cleaned:
    source = Source("doc.txt", "in", "0" * 64, len(text.encode()), "txt")
    doc = Cleaned.start(Document("doc", text, source))
    doc.lang = lang
    return doc


def config(tmp_path: Path, body: str):
    path = tmp_path / "q.toml"
    path.write_text(body, encoding="utf-8")
    return load_quality_config(path)


@pytest.mark.parametrize(
    ("section", "text", "lang", "value"),
    [
        ("[word_count]\nmin = 50", "Ein kurzer Text mit sechs Wörtern.", "de", 6),
        ("[mean_word_length]\nmax = 10", "Donaudampfschifffahrtsgesellschaftskapitän " * 3, "de", 42.0),
        ("[alpha_words]\nmin = 0.8", "123 456 789 abc", "de", 0.25),
        ("[symbol_word_ratio]\nmax = 0.1", "#eins #zwei #drei und vier", "de", 0.6),
        ("[ellipsis_lines]\nmax = 0.3", "Mehr dazu...\nUnd weiter…\nEin Satz.", "de", 0.6667),
        ("[terminal_punctuation]\nmin = 0.5", "Home\nNews\nSport\nEine Zeile.", "de", 0.25),
        ("[bullet_lines]\nmax = 0.5", "- eins\n- zwei\n• drei\nText.", "de", 0.75),
        ("[stop_words]\nmin = 2", "Bundestag Reform Schuldenbremse Investitionen", "de", 0),
        ("[duplicate_lines]\nmax = 0.3", "A\nB\nA\nA", "de", 0.5),
        ("[duplicate_line_chars]\nmax = 0.2", "long line here\nx\nlong line here", "en", 0.4828),
    ],
)
def test_each_scalar_heuristic_names_itself(tmp_path, section, text, lang, value):
    name = section[1 : section.index("]")]
    rejection = judge(cleaned(text, lang), config(tmp_path, section))
    assert rejection is not None and rejection.reason == f"quality.{name}"
    assert rejection.detail["value"] == value
    key = section.split("\n")[1].split(" = ")
    assert rejection.detail["threshold"] == {key[0]: float(key[1]) if "." in key[1] else int(key[1])}


def test_top_ngram(tmp_path):
    rejection = judge(cleaned("a b a b a b c", "en"), config(tmp_path, "[top_ngram]\nmax = { 2 = 0.2, 3 = 0.18 }"))
    assert rejection == Rejection("quality.top_ngram", {"n": 2, "value": 0.8571, "threshold": {"max": 0.2}})


def test_duplicate_ngram(tmp_path):
    text = "one two three four five one two three four five six"
    rejection = judge(cleaned(text, "en"), config(tmp_path, "[duplicate_ngram]\nmax = { 5 = 0.15 }"))
    assert rejection == Rejection("quality.duplicate_ngram", {"n": 5, "value": 0.4634, "threshold": {"max": 0.15}})


def test_stop_words_skipped_without_a_list(tmp_path):
    assert judge(cleaned("Bundestag Reform Schuldenbremse", "und"), config(tmp_path, "[stop_words]\nmin = 2")) is None


def test_only_kept_lines_are_judged(tmp_path):
    doc = cleaned("A\nA\nA\nB", "en")
    doc.claim(1, Claim("r", "c"))
    doc.claim(2, Claim("r", "c"))
    assert judge(doc, config(tmp_path, "[duplicate_lines]\nmax = 0.3")) is None


@pytest.mark.parametrize("body", ["[word_count]\nenabled = false\nmin = 50", "[word_count]", ""])
def test_switched_off(tmp_path, body):
    assert judge(cleaned("kurz"), config(tmp_path, body)) is None


def test_first_failing_heuristic_in_fixed_order(tmp_path):
    body = "[duplicate_lines]\nmax = 0.1\n[word_count]\nmin = 50"
    assert judge(cleaned("A\nA"), config(tmp_path, body)).reason == "quality.word_count"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[word_cnt]\nmin = 1", "unknown heuristic [word_cnt]"),
        ("[word_count]\nminimum = 1", "[word_count] unknown key 'minimum'"),
        ('[word_count]\nmin = "50"', "[word_count] min must be a finite number, got '50'"),
        ("[word_count]\nmin = true", "[word_count] min must be a finite number, got True"),
        ("[word_count]\nenabled = 1", "[word_count] enabled must be true or false"),
        ("[word_count]\nmin = 10\nmax = 5", "[word_count] min 10 is greater than max 5"),
        ("[top_ngram]\nmax = { 7 = 0.1 }", "[top_ngram] max.7: n must be one of 2..4"),
        ("[top_ngram]\nmax = 0.2", "[top_ngram] max must be a table"),
        ("word_count = 5", "word_count must be a table"),
        ("[word_count\nmin = 1", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, body, message):
    with pytest.raises(QualityConfigError) as error:
        config(tmp_path, body)
    text = str(error.value)
    assert text.startswith(str(tmp_path / "q.toml")) and message in text and "\n" not in text


def test_missing_file_and_preset(tmp_path):
    with pytest.raises(QualityConfigError, match="cannot read"):
        load_quality_config(tmp_path / "none.toml")
    with pytest.raises(QualityConfigError, match="no quality preset named 'strict'"):
        preset_path("strict")


def test_presets_load_and_training_enables_every_heuristic():
    assert list(load_quality_config(preset_path("training")).bounds) == list(HEURISTICS)
    assert len(load_quality_config(preset_path("default")).bounds) < len(HEURISTICS)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_seed_articles_pass_both_presets(seed):
    doc = cleaned(seed.read_text(encoding="utf-8"), "de")
    for preset in ("default", "training"):
        assert judge(doc, load_quality_config(preset_path(preset))) is None


def test_training_preset_drops_a_stub_that_default_keeps():
    doc = cleaned("Der Bundestag hat die Reform der Schuldenbremse beschlossen.", "de")
    assert judge(doc, load_quality_config(preset_path("default"))) is None
    assert judge(doc, load_quality_config(preset_path("training"))).reason == "quality.word_count"


def test_default_keeps_short_repeated_cells_and_drops_a_paragraph_over_and_over():
    """Repeated short lines (a table's cells, a formula's symbols) are content; the default preset
    weighs repetition by characters, so only the same text over and over rejects a document."""
    prose = ("Die Kommission legte am Dienstag ihren Bericht vor, der die Lage in den Ländern beschreibt.\n"
             "Nach Angaben der Behörde stiegen die Preise im dritten Quartal deutlich an.\n")
    table = "".join(f"Land {i}\nja\nnein\nja\n" for i in range(12))
    default = load_quality_config(preset_path("default"))
    assert judge(cleaned(prose + table), default) is None
    spam = "Jetzt kaufen und sparen, nur heute gibt es alle Angebote zum halben Preis im Shop!\n" * 20
    rejection = judge(cleaned(prose + spam), default)
    assert rejection is not None and rejection.reason == "quality.duplicate_line_chars"


_TRAINING = load_quality_config(preset_path("training"))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500), st.sampled_from(["de", "en", "und"]))
def test_any_text_is_judged_without_error(text, lang):
    rejection = judge(cleaned(text, lang), _TRAINING)
    assert rejection is None or rejection.reason.startswith("quality.")


# Genuine news prose in scripts that do not separate words with spaces (written for this test).
CHINESE = (
    "国家统计局周三公布的数据显示，今年前三个季度全国居民人均可支配收入同比实际增长百分之五点二。\n"
    "分析人士指出，消费市场持续回暖，服务业对经济增长的贡献明显提高，但外部环境依然复杂多变。\n"
    "专家建议，下一阶段应继续扩大内需，稳定就业，并加大对中小企业的支持力度。"
)
JAPANESE = (
    "気象庁によると、大型の台風十号は明日の朝にかけて九州南部に接近する見込みです。\n"
    "鉄道各社は運転の見合わせを発表しており、利用者に対して最新の運行情報を確認するよう呼びかけています。\n"
    "自治体は早めの避難を求めるとともに、川の増水や土砂災害に十分注意するよう訴えました。"
)
THAI = (
    "กรมอุตุนิยมวิทยาประกาศเตือนว่าจะมีฝนตกหนักในหลายจังหวัดทางภาคเหนือตลอดสัปดาห์นี้\n"
    "เจ้าหน้าที่ท้องถิ่นได้เตรียมเครื่องสูบน้ำและเรือไว้ช่วยเหลือประชาชนในพื้นที่เสี่ยงน้ำท่วม\n"
    "นายกรัฐมนตรีกล่าวว่ารัฐบาลพร้อมจัดสรรงบประมาณฉุกเฉินเพื่อฟื้นฟูพื้นที่ที่ได้รับความเสียหาย"
)


@pytest.mark.parametrize(("text", "lang"), [(CHINESE, "zh"), (JAPANESE, "ja"), (THAI, "th")])
def test_unspaced_scripts_are_not_judged_by_words(text, lang):
    """A whitespace token of Chinese, Japanese or Thai is a clause: word heuristics would call
    every such article letter soup (mean word length far above 20)."""
    assert judge(cleaned(text, lang), load_quality_config(preset_path("default"))) is None
    rejection = judge(cleaned(text, lang), load_quality_config(preset_path("training")))
    assert rejection is None or rejection.reason.removeprefix("quality.") not in {
        "word_count", "mean_word_length", "alpha_words", "symbol_word_ratio", "stop_words", "top_ngram", "duplicate_ngram"}


def test_word_heuristics_still_judge_spaced_text_with_a_few_han_characters(tmp_path):
    """A Latin-script text quoting a name in Han characters is still judged by its words."""
    text = "Donaudampfschifffahrtsgesellschaftskapitän " * 3 + "北京"
    rejection = judge(cleaned(text), config(tmp_path, "[mean_word_length]\nmax = 10"))
    assert rejection is not None and rejection.reason == "quality.mean_word_length"


def test_blob_in_unspaced_script_still_fails_line_heuristics(tmp_path):
    lines = "\n".join(["国家统计局周三公布的数据显示。"] * 10)
    rejection = judge(cleaned(lines, "zh"), config(tmp_path, "[duplicate_lines]\nmax = 0.6"))
    assert rejection is not None and rejection.reason == "quality.duplicate_lines"
