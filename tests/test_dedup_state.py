"""Incremental dedup state: later runs point at earlier runs; bad states are refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from dedup_support import batch, dedup_tasks, mutate, removed, run, words

from cleaner.dedup import DedupSettings, DedupState, StateError
from cleaner.dedup.prior import CHUNK_ROW, CHUNKS
from cleaner.dedup.state import INDEX, OLD_FILE

A = " ".join(words(1, 200))
B = mutate(A, [20, 80, 140], "b")
OTHER = " ".join(words(2, 120))
THIRD = " ".join(words(3, 120))
FOURTH = " ".join(words(4, 120))
LINE = "Jetzt den Newsletter abonnieren"


def _run1(tmp_path: Path) -> Path:
    directory = tmp_path / "state"
    run([("r1a", [A, LINE]), ("r1b", [OTHER, LINE, A])], state=directory, inputs={"sha-1", "sha-2"})
    return directory


def test_second_run_points_at_first_run(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    settings = DedupSettings()
    assert DedupState.open(directory, settings).inputs == {"sha-1", "sha-2"}
    decisions, _ = run([("r2a", [THIRD, B, LINE]), ("r2b", [A])], settings, directory, inputs={"sha-2", "sha-3"})
    rule, detail = removed(decisions, "r2a")[1]
    assert rule == "dedup.near"
    assert detail["duplicate_of"] == {"id": "r1a", "path": "r1a.txt", "lines": [1, 1], "chars": [0, len(A)]}
    # the line was in two documents of run 1 and now in a third: boilerplate from here on
    assert removed(decisions, "r2a")[2] == ("dedup.recurring", {"documents": 3})
    assert decisions["r2b"].rejection.detail["duplicate_of"] == {"id": "r1a", "path": "r1a.txt"}

    # run 3 still sees run 1 and run 2
    state = DedupState.open(directory, settings)
    assert state.inputs == {"sha-1", "sha-2", "sha-3"}
    assert [r["documents"] for r in state.index["runs"]] == [2, 2]
    decisions3, _ = run([("r3", [OTHER, THIRD])], settings, directory)
    assert removed(decisions3, "r3")[0][1]["duplicate_of"]["id"] == "r1b"
    assert removed(decisions3, "r3")[1][1]["duplicate_of"]["id"] == "r2a"


def test_incremental_equals_one_big_run_for_the_new_documents(tmp_path: Path) -> None:
    first = [("r1a", [A, LINE]), ("r1b", [OTHER, LINE])]
    second = [("r2a", [THIRD, B, LINE]), ("r2b", [mutate(B, [60], "x"), OTHER])]
    together, _ = run(first + second)
    run(first, state=tmp_path)
    separate, _ = run(second, state=tmp_path)
    assert separate == {k: v for k, v in together.items() if k.startswith("r2")}


def test_state_with_other_settings_is_refused(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    with pytest.raises(StateError, match=r"other settings \(bands, rows, threshold\)") as err:
        DedupState.open(directory, DedupSettings(threshold=0.7))
    assert "\n" not in str(err.value) and str(directory / INDEX) in str(err.value)


def test_a_single_file_state_of_an_earlier_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / OLD_FILE).write_bytes(b"PK\x03\x04 an old state")
    with pytest.raises(StateError, match="rebuild it") as err:
        DedupState.open(tmp_path, DedupSettings())
    assert str(err.value).startswith(str(tmp_path / OLD_FILE)) and "\n" not in str(err.value)


def test_a_version_3_state_is_refused(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    index = json.loads((directory / INDEX).read_text())
    (directory / INDEX).write_text(json.dumps({**index, "version": 3}))
    with pytest.raises(StateError, match="version 3.*rebuild it by cleaning the corpus again with a fresh --state") \
            as err:
        DedupState.open(directory, DedupSettings())
    assert str(err.value).startswith(str(directory / INDEX)) and "\n" not in str(err.value)


def test_the_index_lists_runs_and_each_run_its_chunks(tmp_path: Path) -> None:
    """index.json grows with runs, not tasks: a run's chunks are listed in its own chunks.npy."""
    directory = _run1(tmp_path)
    settings = DedupSettings()
    dedup_tasks([batch([("r2a", [THIRD, B])], settings), None, batch([("r2b", [OTHER]), ("r2c", [FOURTH, LINE])], settings)],
                settings, directory)
    index = json.loads((directory / INDEX).read_text())
    assert [sorted(run) for run in index["runs"]] == [["documents", "inputs", "name", "paragraphs"]] * 2
    assert [(run["paragraphs"], run["documents"]) for run in index["runs"]] == [(5, 2), (5, 3)]
    second = directory / "runs" / index["runs"][1]["name"]
    chunks = np.load(second / CHUNKS)
    assert chunks.dtype == CHUNK_ROW
    assert chunks.tolist() == [(5, 2, 2, 1), (7, 0, 3, 0), (7, 3, 3, 2)]  # first gid, paragraphs, first doc, documents
    assert sorted(p.name for p in (second / "chunks").iterdir()) == ["00000000", "00000001", "00000002"]
    decisions, _ = run([("r3", [OTHER, mutate(FOURTH, [60], "z")])], settings, directory)
    assert removed(decisions, "r3")[0][1]["duplicate_of"]["id"] == "r1b"  # run 1's second document
    assert removed(decisions, "r3")[1][1]["duplicate_of"] == {"id": "r2c", "path": "r2c.txt", "lines": [1, 1],
                                                               "chars": [0, len(FOURTH)]}  # run 2's third chunk


@pytest.mark.parametrize("damage", ["truncate", "empty", "foreign", "version", "missing-run"])
def test_corrupt_state_is_refused(tmp_path: Path, damage: str) -> None:
    directory = _run1(tmp_path)
    path = directory / INDEX
    data = path.read_text()
    index = json.loads(data)
    if damage == "truncate":
        path.write_text(data[: len(data) // 2])
    elif damage == "empty":
        path.write_text("")
    elif damage == "foreign":
        path.write_text(json.dumps({"format": "something-else"}))
    elif damage == "version":
        path.write_text(json.dumps({**index, "version": 2}))
    else:
        (directory / "runs" / index["runs"][0]["name"]).rename(directory / "moved")
    with pytest.raises(StateError) as err:
        DedupState.open(directory, DedupSettings())
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_an_uncommitted_run_leaves_the_state_and_goes_next_time(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    before = (directory / INDEX).read_bytes()
    settings = DedupSettings()
    orphan = DedupState.open(directory, settings).new_run()  # a run killed before it committed
    (Path(orphan) / "chunks").mkdir()
    assert (directory / INDEX).read_bytes() == before
    decisions, _ = run([("r2", [THIRD, A])], settings, directory)
    assert removed(decisions, "r2")[1][1]["duplicate_of"]["id"] == "r1a"
    names = sorted(p.name for p in (directory / "runs").iterdir())
    assert names == [r["name"] for r in DedupState.open(directory, settings).index["runs"]] and len(names) == 2
    assert sorted(os.listdir(directory)) == [INDEX, "runs"]  # no temporary files


def test_run_without_new_documents_keeps_what_the_state_knows(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    assert run([], state=directory)[0] == {}
    decisions, _ = run([("r3", [THIRD, LINE, OTHER])], state=directory)
    assert removed(decisions, "r3")[1] == ("dedup.recurring", {"documents": 3})
    assert removed(decisions, "r3")[2][1]["duplicate_of"]["id"] == "r1b"


def test_empty_first_run(tmp_path: Path) -> None:
    found, _ = dedup_tasks([None], DedupSettings(), tmp_path)
    assert found[0].by_document() == {}
    state = DedupState.open(tmp_path, DedupSettings())
    assert state.paragraphs == 0 and len(state.index["runs"]) == 1
    decisions, _ = run([("a", [A]), ("b", [A])], state=tmp_path)
    assert removed(decisions, "b")[0][0] == "dedup.exact"
