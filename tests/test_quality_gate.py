"""The cleaning-quality gate: the dev set's figures with the default settings stay above their floors.

The floors live in benchmarks/quality_floors.toml; `make quality` prints the figures and the
removals per rule and signal. The dev set (real pages, other people's truth) is not in the
repository: it is read from ../shared/devset beside it, or $CLEANER_DEVSET, and these tests skip
where it is absent.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from devset_runs import check_floors, clean_track, devset_path, load_floors, measure, score_run  # noqa: E402

DEVSET = devset_path()
needs_devset = pytest.mark.skipif(
    not (DEVSET / "lines").is_dir(),
    reason=f"no dev set at {DEVSET}: the quality gate needs ../shared/devset beside the repository "
           "(or CLEANER_DEVSET=DIR)")

# A pack whose one rule removes every line that ends like a sentence: most article text. Scoped
# to every .txt path, a site pack, so the shipped rules' keep examples do not hold it back.
CONTENT_EATER = '''
[pack]
description = "Test only: eats article text."
paths = ["*.txt"]

[[rule]]
id = "test.eats.sentences"
category = "teaser"
kind = "line"
description = "Every line ending in a full stop."
pattern = '.*\\w.*\\.'
remove = ["The minister said the talks would resume on Monday."]
keep = ["Quarterly results at a glance"]
'''


@pytest.fixture(scope="module")
def floors() -> dict[str, dict[str, float]]:
    return load_floors()


@needs_devset
def test_defaults_hold_the_floors(floors: dict[str, dict[str, float]]) -> None:
    results = measure(DEVSET, ["default"], tuple(floors))["default"]
    failures = check_floors(results, floors)
    assert not failures, "cleaning quality fell below benchmarks/quality_floors.toml:\n" + "\n".join(failures)


def _same(mine: object, theirs: object) -> bool:
    """Equal figures, NaN equal to NaN, comparing only the fields the project computes."""
    if isinstance(mine, dict):
        return isinstance(theirs, dict) and all(_same(value, theirs[key]) for key, value in mine.items())
    if isinstance(mine, float) and math.isnan(mine):
        return isinstance(theirs, float) and math.isnan(theirs)
    return mine == theirs


@needs_devset
@pytest.mark.parametrize("track", ["lines/recall", "strings/recall"])
def test_a_rule_that_eats_content_fails_the_gate(
        tmp_path: Path, floors: dict[str, dict[str, float]], track: str) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "eats.toml").write_text(CONTENT_EATER, encoding="utf-8")
    run = clean_track(DEVSET / track, tmp_path / "out", ["--rules", str(tmp_path / "rules")])
    result = score_run(DEVSET / track, run)

    failures = check_floors({track: result}, {track: floors[track]})
    assert any(line.startswith(f"{track}: content_kept ") for line in failures), failures
    # The removal table names the rule that ate the text, and it ate more than anything else.
    removals = result["removals"]
    assert max(removals, key=lambda rule: removals[rule].get("content", 0)) == "test.eats.sentences"

    # The project's scoring gives the dev set's own scripts' figures on the same output.
    script = DEVSET / ("score_lines.py" if track.startswith("lines") else "score_strings.py")
    figures = tmp_path / "figures.json"
    subprocess.run([sys.executable, str(script), str(DEVSET / track), str(run / "text"), "--json", str(figures)],
                   check=True, capture_output=True)
    theirs = json.loads(figures.read_text(encoding="utf-8"))
    assert _same(result["scores"], theirs)


# A dev-set-shaped pair of tracks written here, so scoring and attribution are tested without it.
SENTENCE = "The council approved the new budget on Tuesday after a long debate in the town hall."
REMOVED = "Officials said the money would go to schools, roads and the new library next year."
OWN_RULES = '''
[pack]
description = "Test only."

[[rule]]
id = "test.menu"
category = "navigation"
kind = "line"
description = "A menu label."
phrases = ["Menu"]
remove = ["Menu"]
keep = ["The menu changes every week."]

[[rule]]
id = "test.officials"
category = "teaser"
kind = "line"
description = "Stands for a rule that eats content."
prefixes = ["Officials said"]
remove = ["Officials said so."]
keep = ["The officials said nothing."]
'''


def _track(root: Path, truth: str, rows: list[dict]) -> Path:
    (root / "input").mkdir(parents=True)
    (root / "input" / "a.txt").write_text(f"Menu\n{SENTENCE}\n{REMOVED}\nMenu\n", encoding="utf-8")
    (root / "input" / "b.txt").write_text("Pneumonoultramicroscopicsilicovolcanoconiosis\n", encoding="utf-8")
    (root / truth).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return root


def test_scores_and_removals_of_a_lines_track(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "own.toml").write_text(OWN_RULES, encoding="utf-8")
    track = _track(tmp_path / "lines" / "recall", "labels.jsonl", [
        {"file": "a.txt", "lang": "en-GB", "labels": ["boilerplate", "content", "content", "boilerplate", "blank"]},
        {"file": "b.txt", "lang": "de", "labels": ["content", "blank"]}])
    run = clean_track(track, tmp_path / "out", ["--no-dedup", "--no-default-rules", "--rules", str(tmp_path / "rules")])
    result = score_run(track, run)

    assert result["removals"] == {
        "rejected:quality.mean_word_length": {"content": 1, "content_chars": 45},
        "test.menu": {"boilerplate": 2},
        "test.officials": {"content": 1, "content_chars": len(REMOVED)}}
    total = result["figures"]["total"]
    assert (total["boilerplate_removed"], total["content_kept"]) == (100.0, pytest.approx(100 / 3))
    assert total["content_chars_kept"] == pytest.approx(100 * len(SENTENCE) / (len(SENTENCE) + len(REMOVED) + 45))
    assert result["figures"]["en"]["content_kept"] == 50.0
    assert check_floors({"lines/recall": result}, {"lines/recall": {"content_kept": 34.0, "f1": 50.0}}) == [
        "lines/recall: content_kept 33.3% < floor 34.0%"]


def test_a_lost_string_is_blamed_on_the_rule_that_cut_it(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "own.toml").write_text(OWN_RULES, encoding="utf-8")
    # The must-keep string runs across two lines; only the second is removed.
    track = _track(tmp_path / "strings" / "recall", "truth.jsonl", [
        {"file": "a.txt", "lang": "en", "keep": ["in the town hall.  Officials said"], "remove": ["Menu"]},
        {"file": "b.txt", "lang": "en", "keep": [], "remove": ["Pneumonoultramicroscopicsilicovolcanoconiosis"]}])
    run = clean_track(track, tmp_path / "out", ["--no-dedup", "--no-default-rules", "--rules", str(tmp_path / "rules")])
    result = score_run(track, run)

    assert result["removals"] == {"rejected:quality.mean_word_length": {"boilerplate": 1},
                                  "test.menu": {"boilerplate": 1}, "test.officials": {"content": 1}}
    total = result["figures"]["total"]
    assert (total["boilerplate_removed"], total["content_kept"], total["f1"]) == (100.0, 0.0, 0.0)
