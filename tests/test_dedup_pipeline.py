"""Deduplication through the `cleaner` command: keep-first, pointers, recurring lines, whole
documents, incremental state, and explaining a finished run."""

from __future__ import annotations

import gc
import json
import warnings
from pathlib import Path

import fsspec
import pytest
from conftest import run_cli

from cleaner import pipeline
from cleaner.dedup import job as dedup_job

P1 = ("Die Landesregierung hat am Dienstag ein Programm zur Sanierung von Schulgebäuden beschlossen, "
      "das in den kommenden fünf Jahren rund zwei Milliarden Euro umfassen soll und alle Kreise erreicht. "
      "Nach Angaben des Kultusministeriums sollen zuerst die Gebäude mit den größten Mängeln bei Brandschutz "
      "und Heizung an die Reihe kommen, danach folgen Turnhallen, Mensen und die Ausstattung der Klassenräume.")
P1_NEAR = P1.replace("am Dienstag", "am Mittwoch")
P2 = ("Der Verband der Lehrerinnen und Lehrer begrüßte die Entscheidung, forderte aber zusätzlich mehr "
      "Personal für die Verwaltung der Schulen, weil die Bauprojekte sonst kaum zu bewältigen seien.")
P3 = ("In Hamburg wurde am Wochenende ein neuer Hafenkran in Betrieb genommen, der doppelt so viele "
      "Container pro Stunde bewegen kann wie die älteren Modelle an den Kaimauern der Stadt.")
P4 = ("Die Feuerwehr rückte in der Nacht zu einem Brand in einer Lagerhalle aus, verletzt wurde nach "
      "ersten Angaben niemand, die Ursache des Feuers ist noch unklar und wird nun ermittelt.")
FOOTER = "Alle Rechte bei Verlag Musterstadt"


def write(root: Path, name: str, *paragraphs: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text("\n".join(paragraphs) + "\n", encoding="utf-8")


def records(out: Path, stem: str = "documents") -> dict[str, dict]:
    lines = (out / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(l)["metadata"]["source"]["path"]: json.loads(l) for l in lines}


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write(root, "a.txt", "Schulen werden saniert", P1, P2, FOOTER)
    write(root, "b.txt", "Mittwoch: Schulen werden saniert", P1_NEAR, P3, FOOTER)
    write(root, "c.txt", "Brand in Lagerhalle", P4, P3, FOOTER)
    write(root, "d.txt", "Schulen werden saniert", P1, P2, FOOTER)  # the same page dumped again
    return root


def test_keep_first_with_pointers_recurring_and_whole_documents(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out, "--workers", "2") == 0
    docs = records(out)
    assert sorted(docs) == ["a.txt", "b.txt", "c.txt"]
    assert docs["a.txt"]["text"] == f"Schulen werden saniert\n{P1}\n{P2}\n"  # first occurrence kept whole
    near = docs["b.txt"]["metadata"]["duplicates"][0]
    assert near["rule"] == "dedup.near" and near["text"] == P1_NEAR + "\n"
    assert near["duplicate_of"]["path"] == "a.txt" and near["duplicate_of"]["lines"] == [2, 2]
    assert near["duplicate_of"]["id"] == docs["a.txt"]["id"]
    assert 0.8 <= near["jaccard"] < 1 and 0.5 <= near["jaccard_estimate"] <= 1
    exact = docs["c.txt"]["metadata"]["duplicates"][0]
    assert exact["rule"] == "dedup.exact" and exact["duplicate_of"]["path"] == "b.txt"
    for name in ("a.txt", "b.txt", "c.txt"):  # the footer recurs in every document: removed everywhere
        assert FOOTER not in docs[name]["text"]
        assert any(s["rule"] == "dedup.recurring" and s["documents"] >= 3 for s in docs[name]["metadata"]["removed"])
    rejected = records(out, "rejected")["d.txt"]
    assert rejected["metadata"]["rejection"]["reason"] == "duplicate_document"
    assert rejected["metadata"]["rejection"]["duplicate_of"]["path"] == "a.txt"
    stats = json.loads((out / "stats.json").read_text())
    assert stats["duplicates"]["by_kind"]["near"]["paragraphs"] == 1
    assert stats["duplicates"]["duplicate_documents"] == 1 and stats["duplicates"]["recurring_lines"] >= 3
    assert stats["documents"]["rejected_by_reason"] == {"duplicate_document": 1}


def test_repeat_inside_one_document(tmp_path: Path) -> None:
    """Kept by default (it is article text), removed with --within-document remove."""
    write(tmp_path / "c", "x.txt", "Titel der Meldung hier", P3, P4, P3)
    assert run_cli("clean", tmp_path / "c", "-o", tmp_path / "kept", "--workers", "1") == 0
    assert records(tmp_path / "kept")["x.txt"]["text"].count(P3) == 2
    assert run_cli("clean", tmp_path / "c", "-o", tmp_path / "out", "--workers", "1", "--within-document", "remove") == 0
    doc = records(tmp_path / "out")["x.txt"]
    assert doc["text"].count(P3) == 1
    assert doc["metadata"]["duplicates"][0]["lines"] == [4, 4]
    assert doc["metadata"]["duplicates"][0]["duplicate_of"]["lines"] == [2, 2]


def test_no_dedup_keeps_everything(corpus: Path, tmp_path: Path) -> None:
    assert run_cli("clean", corpus, "-o", tmp_path / "out", "--no-dedup") == 0
    assert len(records(tmp_path / "out")) == 4


@pytest.mark.parametrize("workers", ["1", "2"])
def test_dedup_tasks_of_one_or_many_phase1_tasks_give_the_same_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str) -> None:
    """The dedup reads consecutive phase-1 tasks as one dedup task (about 64 MB of
    fingerprints); one task each or all in one, the output is byte for byte the same, with a
    state across two runs too."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 700)  # a phase-1 task per file or two
    root = tmp_path / "corpus"
    pages = [("Schulen werden saniert", P1, P2), ("Mittwoch", P1_NEAR, P3), ("Brand", P4, P3), ("Neu", P2, P4),
             ("Schulen werden saniert", P1, P2), ("Hafen", P3, FOOTER)]
    for i, page in enumerate(pages):
        write(root / "first", f"{i}.txt", *page, FOOTER)
    write(root / "later", "x.txt", "Nachtrag", P4, P1_NEAR, FOOTER)
    outputs = {}
    for task_bytes, spread in ((1, 16), (1 << 30, 1)):  # one phase-1 task each; all in one
        monkeypatch.setattr(dedup_job, "TASK_BYTES", task_bytes)
        monkeypatch.setattr(dedup_job, "TASK_SPREAD", spread)
        tag = f"t{task_bytes}"
        state = ["--state", str(tmp_path / f"state-{tag}")]
        for run, inputs in (("1", [root / "first"]), ("2", [root / "first", root / "later"])):
            out = tmp_path / f"{tag}-{run}"
            assert run_cli("clean", *inputs, "-o", out, "--workers", workers, "-q", *state) == 0
            outputs[tag, run] = {name: (out / name).read_bytes() for name in ("documents.jsonl", "rejected.jsonl",
                                                                              "stats.json")}
    assert json.loads(outputs["t1", "1"]["stats.json"])["duplicates"]["paragraphs"] > 0
    assert manifest_tasks(tmp_path / "t1-1") >= 4
    for run in ("1", "2"):
        assert outputs["t1", run] == outputs[f"t{1 << 30}", run]


def manifest_tasks(out: Path) -> int:
    return int(json.loads((out / "manifest.json").read_text())["timings"]["tasks"])


def test_incremental_runs_with_state(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    assert run_cli("clean", corpus, "-o", tmp_path / "day1", "--state", state) == 0
    write(corpus, "e.txt", "Neue Meldung zum Schulprogramm", P2, "Ein ganz neuer Absatz über den Wetterbericht "
          "für das Wochenende, mit Regen im Norden und Sonne im Süden des Landes bei milden Temperaturen.")
    assert run_cli("clean", corpus, "-o", tmp_path / "day2", "--state", state) == 0
    day2 = records(tmp_path / "day2")
    assert sorted(day2) == ["e.txt"]  # yesterday's inputs are unchanged: skipped, not repeated
    dup = day2["e.txt"]["metadata"]["duplicates"][0]
    assert dup["text"] == P2 + "\n" and dup["duplicate_of"]["path"] == "a.txt"
    manifest = json.loads((tmp_path / "day2" / "manifest.json").read_text())
    assert sum(1 for entry in manifest["inputs"] if entry.get("unchanged")) == 4
    capsys.readouterr()
    assert run_cli("clean", corpus, "-o", tmp_path / "day3", "--state", state, "--dedup-threshold", "0.7") == 2
    assert "settings" in capsys.readouterr().err
    (state / next(p.name for p in state.iterdir())).write_bytes(b"not a state")
    assert run_cli("clean", corpus, "-o", tmp_path / "day4", "--state", state) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(state) in error
    assert not (tmp_path / "day4").exists()


def test_explain_a_finished_run_shows_what_a_duplicate_duplicates(corpus: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out) == 0
    capsys.readouterr()
    assert run_cli("explain", "--run", out, "b.txt") == 0
    text = capsys.readouterr().out
    assert "dedup.near [duplicate]" in text and "duplicates a.txt:2" in text and P1[:40] in text
    assert run_cli("explain", "--run", out, "d.txt", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rejection"]["reason"] == "duplicate_document"
    record_id = records(out)["a.txt"]["id"]
    assert run_cli("explain", "--run", out, record_id, "--json") == 0
    assert json.loads(capsys.readouterr().out)["path"] == "a.txt"
    assert run_cli("explain", "--run", out, "nope.txt") == 2


def test_explain_and_report_read_a_run_at_a_url(corpus: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A run published to an object store is explained and reported on where it is, with the
    same result as its local copy; the report goes into the run's URL."""
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out, "--compress", "gz") == 0
    fs = fsspec.filesystem("memory")
    for path in sorted(out.iterdir()):
        fs.pipe_file(f"memory://runs/day1/{path.name}", path.read_bytes())
    capsys.readouterr()
    explained = {}
    for key in ("b.txt", "d.txt", "a.txt"):
        assert run_cli("explain", "--run", out, key, "--json") == 0
        local = capsys.readouterr().out
        assert run_cli("explain", "--run", "memory://runs/day1", key, "--json") == 0
        assert capsys.readouterr().out == local
        explained[key] = json.loads(local)
    # b.txt's duplicate shows the original's text, read from a.txt's record in the remote run
    originals = [line["duplicate_of"] for line in explained["b.txt"]["lines"] if "duplicate_of" in line]
    assert originals and originals[0]["path"] == "a.txt" and originals[0]["text"].strip() == P1
    assert run_cli("report", out) == 0 and run_cli("report", "memory://runs/day1/") == 0
    assert fs.cat_file("memory://runs/day1/report.html") == (out / "report.html").read_bytes()
    capsys.readouterr()
    assert run_cli("report", "memory://runs/nothing-here") == 2
    assert run_cli("explain", "--run", "memory://runs/nothing-here", "b.txt") == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all("memory://runs/nothing-here: not a finished cleaner run" in e for e in errors)
    fs.rm("memory://runs", recursive=True)  # the memory store lives as long as the test process


@pytest.mark.parametrize("with_state", [False, True])
def test_run_closes_the_dedup_spill_files(corpus: Path, tmp_path: Path, with_state: bool) -> None:
    """The deduplicator's temporary spill files are closed by the run (after the state is saved,
    which streams from them), not left to the garbage collector."""
    state = ["--state", str(tmp_path / "state")] if with_state else []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert run_cli("clean", corpus, "-o", tmp_path / "out", "--quiet", *state) == 0
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
    if with_state:
        assert (tmp_path / "state").is_dir()


@pytest.mark.parametrize(("argv", "expected"), [([], "keep"), (["--preset", "training"], "remove"),
                                                (["--preset", "training", "--within-document", "keep"], "keep"),
                                                (["--within-document", "remove"], "remove")])
def test_within_document_follows_the_preset_unless_given(tmp_path: Path, argv: list[str], expected: str) -> None:
    write(tmp_path / "c", "x.txt", "Titel der Meldung hier", P3, P4)
    assert run_cli("clean", tmp_path / "c", "-o", tmp_path / "out", "--workers", "1", *argv) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["dedup"]["within_document"] == expected
