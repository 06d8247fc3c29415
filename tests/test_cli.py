"""The `cleaner` command end to end: outputs, determinism, atomicity, explain."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS, run_cli


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def without_timings(manifest: bytes) -> dict:
    data = json.loads(manifest)
    data.pop("timings")
    return data


def test_two_runs_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_cli("clean", SEEDS, "-o", first, "--format", "jsonl,txt") == 0
    assert run_cli("clean", SEEDS, "-o", second, "--format", "jsonl,txt") == 0
    a, b = tree_bytes(first), tree_bytes(second)
    assert a.keys() == b.keys()
    for name in a:
        if name == "manifest.json":
            assert without_timings(a[name]) == without_timings(b[name])
        else:
            assert a[name] == b[name], name
    record = json.loads(a["documents.jsonl"].splitlines()[0])
    assert record["added"] == "2023-11-14T22:13:20Z"


def test_record_schema(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out) == 0
    record = json.loads((out / "documents.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert list(record) == ["id", "text", "source", "added", "created", "lang", "lang_score", "metadata"]
    assert record["source"] == "seeds"
    meta = record["metadata"]
    assert {"source", "kept", "removed", "duplicates", "extracted", "pipeline"} <= meta.keys()
    assert meta["source"]["path"] == "001_3f014d1e3b49df7b.txt" and len(meta["source"]["sha256"]) == 64
    assert meta["pipeline"]["rules_digest"] and meta["pipeline"]["cleaner"]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["documents"] == {"in": 5, "out": 5, "rejected": 0, "rejected_by_reason": {}}
    assert stats["removed_by_rule"]["de.jobs.listing-block"]["lines"] == 5
    assert stats["removed_by_category"]["job_listing"]["lines"] == 6
    assert stats["characters"]["in"] == stats["characters"]["kept"] + stats["characters"]["removed"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generator"] == "cleaner" and len(manifest["inputs"]) == 5
    assert not (out / "text").exists()


def test_failed_run_leaves_previous_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out, "--format", "jsonl,txt") == 0
    before = tree_bytes(out)
    # A run that fails half-way through writing (an input whose text/ path is taken by a folder
    # of the same name from another input) must leave the previous output as it was.
    other = tmp_path / "other" / "seeds"
    (other / "000_9fa1950a3167ef65.txt").mkdir(parents=True)
    (other / "000_9fa1950a3167ef65.txt" / "x.txt").write_text("Ein Text über das Wetter.")
    assert run_cli("clean", SEEDS, other, "-o", out, "--format", "jsonl,txt") == 2
    assert "same text/ path" in capsys.readouterr().err
    assert tree_bytes(out) == before
    # No half-written output is left; the work directory stays for --resume until a run succeeds.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == [".out.work"]
    assert run_cli("clean", SEEDS, "-o", out) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_inputs_with_the_same_output_name_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twin = tmp_path / "twin" / "seeds"
    shutil.copytree(SEEDS, twin)
    assert run_cli("clean", SEEDS, twin, "-o", tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert "has the same output name seeds/000_9fa1950a3167ef65.txt" in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_refuses_foreign_output_and_output_inside_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    foreign = tmp_path / "important"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("do not delete")
    assert run_cli("clean", SEEDS, "-o", foreign) == 2
    assert "not written by cleaner" in capsys.readouterr().err
    assert (foreign / "thesis.txt").read_text() == "do not delete"
    assert run_cli("clean", SEEDS, "-o", foreign, "--force") == 0
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    assert run_cli("clean", corpus, "-o", corpus / "out") == 2
    assert "inside the input root" in capsys.readouterr().err


def test_inputs_files_dirs_globs_and_glob_option(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "b.txt").write_text("Zweiter Text über das Wetter in Berlin.\n")
    (corpus / "sub" / "a.txt").write_text("Erster Text.\nAnzeige\n")
    (corpus / "c.md").write_text("Markdown text.\n")
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out, "--format", "txt") == 0
    assert sorted(tree_bytes(out / "text")) == ["b.txt", "c.md", "sub/a.txt"]  # every readable name by default
    assert (out / "text" / "sub" / "a.txt").read_text() == "Erster Text.\n"
    assert run_cli("clean", corpus, "-o", out, "--format", "txt", "--glob", "*.txt") == 0
    assert sorted(tree_bytes(out / "text")) == ["b.txt", "sub/a.txt"]
    assert run_cli("clean", corpus, "-o", out, "--glob", "*.md") == 0
    assert len((out / "documents.jsonl").read_text().splitlines()) == 1
    assert run_cli("clean", str(corpus / "*.txt"), str(corpus / "sub" / "a.txt"), "-o", out) == 0
    paths = [json.loads(l)["metadata"]["source"]["path"] for l in (out / "documents.jsonl").read_text().splitlines()]
    assert paths == ["b.txt", "a.txt"]
    # several globs; one with a folder matches the end of the path below the root
    assert run_cli("clean", corpus, "-o", out, "--format", "txt", "--glob", "sub/*.txt, *.md", "--force") == 0
    assert sorted(tree_bytes(out / "text")) == ["c.md", "sub/a.txt"]


def test_missing_input_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("clean", tmp_path / "nope", "-o", tmp_path / "out") == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "nope: no such file or directory" in error
    assert not (tmp_path / "out").exists()


def test_explain_of_an_unreadable_input_is_one_line_error(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\x00\x00")
    assert run_cli("explain", tmp_path / "image.txt") == 2
    assert capsys.readouterr().err == "cleaner: error: image.txt: binary file (NUL byte at offset 4), not text\n"


def test_explain_names_rule_of_every_removed_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("explain", SEEDS / "001_3f014d1e3b49df7b.txt") == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # plain when not a terminal
    rows = [line for line in out.splitlines() if "│" in line]
    assert len(rows) == 32
    assert any("de.jobs.listing-block [job_listing]" in r and "Stellenangebote" in r for r in rows)
    assert any(r.split("│")[0].split()[1] == "keep" and "KIEW / LONDON" in r for r in rows)
    assert run_cli("explain", SEEDS / "001_3f014d1e3b49df7b.txt", "--color", "always") == 0
    assert "\x1b[" in capsys.readouterr().out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("explain", SEEDS / "004_2a976e1a81791f92.txt", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    line = next(l for l in data["lines"] if l["text"] == "12.11.2024 08:09")
    assert line == {"line": 3, "kept": False, "text": "12.11.2024 08:09",
                    "rule": "common.date.numeric-stamp", "category": "date"}
    assert data["extracted"] == {"published": ["2024-11-12T08:09"]}


def test_output_identical_for_any_worker_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    corpus = tmp_path / "corpus"
    for copy in range(4):
        shutil.copytree(SEEDS, corpus / f"part{copy}")
    outputs = []
    for workers in (1, 2, 3):
        out = tmp_path / f"out{workers}"
        assert run_cli("clean", corpus, "-o", out, "--workers", workers, "--format", "jsonl,txt") == 0
        outputs.append({k: v for k, v in tree_bytes(out).items() if k != "manifest.json"})
    assert outputs[0] == outputs[1] == outputs[2]
    # Each copy after the first is a duplicate document: kept once, the others rejected with a pointer.
    assert len(outputs[0]["documents.jsonl"].splitlines()) == 5
    assert len(outputs[0]["rejected.jsonl"].splitlines()) == 15


def test_a_run_without_parquet_does_not_load_pyarrow(tmp_path: Path) -> None:
    """Start-up is part of every CI step that runs the cleaner: pyarrow (about 0.1 s to import)
    loads only when Parquet is read or written."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Ein kurzer Artikel über das Wetter in Berlin.\n", encoding="utf-8")
    script = ("import sys\nfrom cleaner.cli import main\n"
              f"code = main(['clean', {str(tmp_path / 'in')!r}, '-o', {str(tmp_path / 'out')!r}, '--quiet', '--workers', '1'])\n"
              "print(code, 'pyarrow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "False"], done.stderr
