"""User rule packs may carry catastrophic regexes: refused at load where detectable, bounded otherwise."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import run_cli

from cleaner.rules.loader import RulePackError, load_rules

RULE = '''
[[rule]]
id = "user.slow"
category = "ad"
kind = "line"
pattern = '{pattern}'
remove = ["{remove}"]
keep = ["Ein ganz normaler Satz."]
'''


def test_catastrophic_pattern_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "user.toml").write_text(RULE.format(pattern="(a|aa)+b", remove="aab"))
    started = time.perf_counter()
    with pytest.raises(RulePackError, match=r"user\.toml:3: rule 'user\.slow': pattern backtracks catastrophically"):
        load_rules([tmp_path])
    assert time.perf_counter() - started < 5


def test_pattern_that_evades_probes_is_bounded_at_run_time(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "user.toml").write_text(RULE.format(pattern="q(a|aa)+b", remove="qaab"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.txt").write_text("Ein Absatz über das Wetter.\nq" + "a" * 40 + "!\nqaab\n")
    started = time.perf_counter()
    assert run_cli("clean", corpus, "-o", tmp_path / "out", "--rules", rules, "--workers", "1") == 0
    assert time.perf_counter() - started < 20
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["rule_timeouts"] == {"user.slow": 1}
    record = json.loads((tmp_path / "out" / "documents.jsonl").read_text())
    assert record["text"] == "Ein Absatz über das Wetter.\nq" + "a" * 40 + "!\n"
    assert [s["rule"] for s in record["metadata"]["removed"]] == ["user.slow"]


def test_rule_that_removes_everything_is_flagged_by_rules_test(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "user.toml").write_text('''
[[rule]]
id = "user.everything"
category = "ad"
kind = "line"
pattern = '.+'
max_words = 1000
remove = ["Anzeige"]
keep = ["Ein ganz normaler Satz über das Wetter."]
''')
    assert run_cli("rules", "test", "--no-default-rules", "--rules", tmp_path) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "user.everything" in out and "should remove lines nothing, removed [1]" in out
    # ... and it could never reach a run: the same check guards every load.
    assert run_cli("clean", tmp_path, "-o", tmp_path / "out", "--no-default-rules", "--rules", tmp_path) == 2
