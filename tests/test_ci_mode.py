"""Unattended runs: exit codes, guards that keep the previous output, the JSON summary,
quiet logs, and resuming an interrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, run_cli


def test_guard_max_removed_fraction_keeps_previous_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out) == 0
    before = (out / "documents.jsonl").read_bytes()
    capsys.readouterr()
    code = run_cli("clean", SEEDS, "-o", out, "--max-removed-fraction", "0.05", "--summary-json", tmp_path / "s.json")
    assert code == 3
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert "removes 12.6% of the input characters (limit 5.0%)" in error
    assert "de.comment.policy-footer" in error and "previous output left in place" in error
    assert (out / "documents.jsonl").read_bytes() == before
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["status"] == "guard" and summary["exit_code"] == 3 and summary["output_replaced"] is False
    assert summary["top_rules"][0]["rule"] == "de.comment.policy-footer"


def test_guard_min_output_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("clean", SEEDS, "-o", tmp_path / "out", "--min-output-docs", "6") == 3
    assert "writes 5 documents (at least 6 required)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert run_cli("clean", SEEDS, "-o", tmp_path / "out", "--min-output-docs", "5", "--max-removed-fraction",
                   "0.2") == 0


def test_json_summary_on_stdout_and_quiet_stderr(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "cleaner.cli", "clean", str(SEEDS), "-o", str(tmp_path / "out"),
                             "--json", "--quiet"], capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0
    # --quiet leaves the one-line summary the README promises, and nothing else
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("cleaned 5 documents into ")
    summary = json.loads(result.stdout)
    assert summary["status"] == "ok" and summary["documents"]["out"] == 5 and summary["output_replaced"] is True
    assert 0.12 < summary["removed_fraction"] < 0.13


def test_strict_exit_1_keeps_previous_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, out, summary = tmp_path / "corpus", tmp_path / "out", tmp_path / "summary.json"
    shutil.copytree(SEEDS, corpus)
    assert run_cli("clean", corpus, "-o", out, "--strict") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (corpus / "binary.txt").write_bytes(b"\x00" * 64)
    (corpus / "new.txt").write_text("Ein neuer Text über den Hafen von Hamburg und seine Schiffe.\n", encoding="utf-8")
    capsys.readouterr()
    assert run_cli("clean", corpus, "-o", out, "--strict", "--summary-json", summary) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the incomplete run is not published
    err = capsys.readouterr().err
    assert "skipped binary.txt: binary file" in err and "previous output left in place" in err
    data = json.loads(summary.read_text())
    assert data["status"] == "inputs_skipped" and data["exit_code"] == 1 and data["output_replaced"] is False
    assert data["documents"]["in"] == 6 and [e["path"] for e in data["inputs_skipped"]] == ["binary.txt"]
    assert run_cli("clean", corpus, "-o", tmp_path / "lenient") == 0  # without --strict: published, exit 0


def _summary_of(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    summary = tmp_path / "summary.json"
    summary.unlink(missing_ok=True)
    code = run_cli("clean", *args, "--summary-json", summary)
    return code, json.loads(summary.read_text())


def test_summary_written_on_every_exit(tmp_path: Path) -> None:
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    shutil.copytree(SEEDS, corpus)
    (corpus / "binary.txt").write_bytes(b"\x00" * 64)
    code, data = _summary_of(tmp_path, corpus, "-o", out, "--on-error", "fail")
    assert code == 1 and data["status"] == "input_failed" and data["exit_code"] == 1
    assert "binary.txt: binary file" in data["message"] and data["output_replaced"] is False
    assert data["documents"] is None and not out.exists()
    bad = tmp_path / "bad-rules"
    bad.mkdir()
    (bad / "x.toml").write_text("[[rule]]\nid = 'x'\nkind = 'nonsense'\n", encoding="utf-8")
    code, data = _summary_of(tmp_path, corpus, "-o", out, "--rules", bad)
    assert code == 2 and data["status"] == "error" and "unknown kind 'nonsense'" in data["message"]
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "mine.txt").write_text("not a cleaner output", encoding="utf-8")
    code, data = _summary_of(tmp_path, corpus, "-o", stranger)
    assert code == 2 and data["status"] == "error" and "not written by cleaner" in data["message"]
    code, data = _summary_of(tmp_path, corpus, "-o", out)
    assert code == 0 and data["status"] == "ok" and data["output_replaced"] is True


def _corpus(root: Path, files: int) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(files):
        target = root / f"part{i // 50:02d}" / f"doc{i:04d}.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = seeds[i % len(seeds)].read_text(encoding="utf-8")
        target.write_text(f"Meldung Nummer {i} aus dem Archiv\n{text}\nNachtrag {i}: die Redaktion ergänzte "
                          f"am Abend weitere Angaben zu Ort und Zeit der Ereignisse in Fall {i}.\n", encoding="utf-8")


def test_interrupted_run_resumes_without_redoing_finished_tasks(tmp_path: Path) -> None:
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    # Forty tasks of 64 files: enough that the run is still in phase 1 when the interrupt lands,
    # however fast the machine cleans one task.
    _corpus(corpus, 40 * 64)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "cleaner.cli", "clean", str(corpus), "-o", str(out), "--workers", "1", "-q"]
    # A shell starts background jobs with SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: give the run the default disposition, as a terminal's Ctrl-C finds it.
    summary = tmp_path / "summary.json"
    process = subprocess.Popen([*command, "--summary-json", str(summary)], cwd=REPO, env=env, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    work = tmp_path / ".out.work"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(work.glob("*.summary.pkl"))) < 2:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not out.exists()  # nothing half-written
    interrupted = json.loads(summary.read_text())
    assert interrupted["status"] == "interrupted" and interrupted["exit_code"] == 130
    finished = len(list(work.glob("*.summary.pkl")))  # written last: what --resume counts as finished
    assert 2 <= finished < 40
    assert subprocess.run([*command, "--resume"], cwd=REPO, env=env, check=False).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["timings"]["tasks"] == 40 and manifest["timings"]["tasks_resumed"] == finished
    fresh = tmp_path / "fresh"
    fresh_command = [sys.executable, "-m", "cleaner.cli", "clean", str(corpus), "-o", str(fresh), "--workers", "2"]
    assert subprocess.run(fresh_command, cwd=REPO, env=env, check=False).returncode == 0
    for name in ("documents.jsonl", "rejected.jsonl", "stats.json"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert not work.exists()


def test_resume_ignores_work_from_other_settings(tmp_path: Path) -> None:
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    _corpus(corpus, 70)
    work = tmp_path / ".out.work"
    work.mkdir()
    (work / "work.json").write_text('{"key": "from another run"}')
    (work / "00000000.docs.pkl").write_bytes(b"garbage that must never be read")
    (work / "00000000.dedup.pkl").write_bytes(b"garbage")
    assert run_cli("clean", corpus, "-o", out, "--resume", "--workers", "1") == 0
    assert json.loads((out / "manifest.json").read_text())["timings"]["tasks_resumed"] == 0


def test_lang_filter_sends_other_languages_to_rejected_with_reason(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "english.txt").write_text(
        "The city council voted on Tuesday to extend the library's opening hours on weekends, after a "
        "petition collected more than four thousand signatures from residents of all districts.\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out, "--lang", "de") == 0
    kept = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert {r["lang"] for r in kept} == {"de"} and len(kept) == 5
    assert len(rejected) == 1 and rejected[0]["metadata"]["source"]["path"] == "english.txt"
    rejection = rejected[0]["metadata"]["rejection"]
    assert rejection["reason"] == "language" and rejection["lang"] == "en" and rejection["allowed"] == ["de"]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["documents"]["rejected_by_reason"] == {"language": 1}


def test_resumed_work_is_keyed_by_the_line_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retrained model changes output like a changed rule pack: earlier phase-1 work is not reused."""
    from cleaner import pipeline
    from cleaner.filters.classifier import ClassifierSettings, default_model_path
    from cleaner.readers.discover import discover
    from cleaner.rules.loader import load_rules
    from cleaner.stages import StageSettings

    model = tmp_path / "line_classifier.json"
    shutil.copy(default_model_path(), model)
    monkeypatch.setattr(pipeline, "default_model_path", lambda: model)
    tasks = pipeline.make_tasks(discover([str(SEEDS)], "*.txt"))
    rules, settings = load_rules(), pipeline.Settings()
    before = pipeline._work_key(tasks, rules, settings, None)
    assert pipeline._work_key(tasks, rules, settings, None) == before
    os.utime(model, ns=(1, 1))
    assert pipeline._work_key(tasks, rules, settings, None) != before
    without = pipeline.Settings(stages=StageSettings(classifier=ClassifierSettings(enabled=False)))
    assert pipeline._work_key(tasks, rules, without, None) != pipeline._work_key(tasks, rules, settings, None)
