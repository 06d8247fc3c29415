"""Incremental dedup state: later runs point at earlier runs; bad states are refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from dedup_support import mutate, removed, run, words

from cleaner.dedup import Deduplicator, DedupSettings, DedupState, StateError
from cleaner.dedup.state import FILENAME

A = " ".join(words(1, 200))
B = mutate(A, [20, 80, 140], "b")
OTHER = " ".join(words(2, 120))
THIRD = " ".join(words(3, 120))
LINE = "Jetzt den Newsletter abonnieren"


def _run1(tmp_path: Path) -> Path:
    _, dedup = run([("r1a", [A, LINE]), ("r1b", [OTHER, LINE, A])])
    state = dedup.state()
    state.inputs.update({"sha-1", "sha-2"})
    directory = tmp_path / "state"
    state.save(directory)
    return directory


def test_second_run_points_at_first_run(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    settings = DedupSettings()
    state = DedupState.load(directory, settings)
    assert state.inputs == {"sha-1", "sha-2"}
    assert state.doc_ids == ["r1a", "r1b"]
    decisions, dedup = run([("r2a", [THIRD, B, LINE]), ("r2b", [A])], settings, state)
    rule, detail = removed(decisions, "r2a")[1]
    assert rule == "dedup.near"
    assert detail["duplicate_of"] == {"id": "r1a", "path": "r1a.txt", "lines": [1, 1], "chars": [0, len(A)]}
    # the line was in two documents of run 1 and now in a third: boilerplate from here on
    assert removed(decisions, "r2a")[2] == ("dedup.recurring", {"documents": 3})
    assert decisions["r2b"].rejection.detail["duplicate_of"] == {"id": "r1a", "path": "r1a.txt"}

    # run 3 still sees run 1 and run 2
    dedup.state().save(directory)
    state3 = DedupState.load(directory, settings)
    assert state3.doc_ids == ["r1a", "r1b", "r2a", "r2b"]
    decisions3, _ = run([("r3", [OTHER, THIRD])], settings, state3)
    assert removed(decisions3, "r3")[0][1]["duplicate_of"]["id"] == "r1b"
    assert removed(decisions3, "r3")[1][1]["duplicate_of"]["id"] == "r2a"


def test_incremental_equals_one_big_run_for_the_new_documents(tmp_path: Path) -> None:
    first = [("r1a", [A, LINE]), ("r1b", [OTHER, LINE])]
    second = [("r2a", [THIRD, B, LINE]), ("r2b", [mutate(B, [60], "x"), OTHER])]
    together, _ = run(first + second)
    _, dedup = run(first)
    dedup.state().save(tmp_path)
    separate, _ = run(second, state=DedupState.load(tmp_path, DedupSettings()))
    assert separate == {k: v for k, v in together.items() if k.startswith("r2")}


def test_state_with_other_settings_is_refused(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    with pytest.raises(StateError, match=r"other settings \(bands, rows, threshold\)") as err:
        DedupState.load(directory, DedupSettings(threshold=0.7))
    assert "\n" not in str(err.value) and FILENAME in str(err.value)
    state = DedupState.load(directory, DedupSettings())
    with pytest.raises(StateError):
        Deduplicator(DedupSettings(ngram=4), state)


def test_missing_state_is_reported(tmp_path: Path) -> None:
    assert not DedupState.exists(tmp_path)
    with pytest.raises(StateError, match="no dedup state here"):
        DedupState.load(tmp_path, DedupSettings())


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "foreign-zip", "text"])
def test_corrupt_state_is_refused(tmp_path: Path, damage: str) -> None:
    directory = _run1(tmp_path)
    path = directory / FILENAME
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        # flip a byte inside the shingles member so only its CRC can tell
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("shingles.npy")
        at = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 5
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign-zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("header.json", '{"format": "something-else"}')
    else:
        path.write_text("hello")
    with pytest.raises(StateError) as err:
        state = DedupState.load(directory, DedupSettings())
        Deduplicator(DedupSettings(), state)  # streams the shingles, which checks their CRC
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    before = (directory / FILENAME).read_bytes()
    _, dedup = run([("x", [THIRD])])
    state = dedup.state()
    state.arrays["para_doc"] = np.zeros(3, dtype=object)  # cannot be written without pickle
    with pytest.raises(ValueError):
        state.save(directory)
    assert (directory / FILENAME).read_bytes() == before
    assert [p.name for p in directory.iterdir()] == [FILENAME]


def test_run_without_new_documents_keeps_the_state(tmp_path: Path) -> None:
    directory = _run1(tmp_path)
    settings = DedupSettings()
    state = DedupState.load(directory, settings)
    dedup = Deduplicator(settings, state)
    assert dedup.resolve().by_document() == {}
    dedup.state().save(tmp_path / "again")
    again = DedupState.load(tmp_path / "again", settings)
    assert again.doc_ids == state.doc_ids and again.inputs == state.inputs
    for name, values in state.arrays.items():
        assert np.array_equal(again.arrays[name], values), name


def test_empty_first_run(tmp_path: Path) -> None:
    dedup = Deduplicator(DedupSettings())
    assert dedup.resolve().by_document() == {}
    dedup.state().save(tmp_path)
    assert DedupState.load(tmp_path, DedupSettings()).paragraphs == 0
