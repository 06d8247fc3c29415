"""The shuffle's files: what a reduce call reads for a destination is every source's rows for
it, in source order, whether the sources' files were merged (any fan-in, any window) or not,
in a local directory or in a store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest
from dedup_support import scrambled
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dedup_sharded import EXPECTED, cases, sharded_runs

import cleaner.dedup.shuffle as shuffle
from cleaner.dedup.components import in_process
from cleaner.dedup.shuffle import merge_sources, read_part, write_parts

COLUMNS = {"key": np.uint64, "flag": np.bool_, "local": np.int64}
# Per source: (destination, key) of each row, in the order the source wrote them.
sources_rows = st.lists(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2**64 - 1)), max_size=30), max_size=12)


def expected_part(sources: list[list[tuple[int, int]]], destination: int) -> list[tuple[int, int, int]]:
    """(source, key, local) of the rows sent to `destination`, in source order then row order."""
    return [(source, key, local) for source, rows in enumerate(sources)
            for local, (where, key) in enumerate(rows) if where == destination]


def write_all(location: str, sources: list[list[tuple[int, int]]]) -> None:
    for source, rows in enumerate(sources):
        destinations = np.array([where for where, _ in rows], dtype=np.int64)
        keys = np.array([key for _, key in rows], dtype=np.uint64)
        write_parts(location, "step", source, destinations,
                    {"key": keys, "flag": keys % np.uint64(2) == 0, "local": np.arange(len(rows))})


def read_all(location: str) -> list[list[tuple[int, int, int]]]:
    out = []
    for destination in range(11):
        rows, found = read_part(location, "step", destination, COLUMNS)
        assert rows["key"].dtype == np.uint64 and rows["flag"].dtype == np.bool_
        assert (rows["flag"] == (rows["key"] % np.uint64(2) == 0)).all()
        out.append(list(zip(found.tolist(), rows["key"].tolist(), rows["local"].tolist())))
    return out


@settings(max_examples=40, deadline=None)
@given(sources_rows, st.integers(2, 5), st.integers(1, 400))
def test_merged_or_not_a_destination_reads_its_rows_in_source_order(
        sources: list[list[tuple[int, int]]], fan_in: int, window: int) -> None:
    location = f"memory://shuffle-{abs(hash((str(sources), fan_in, window)))}"
    try:
        write_all(location, sources)
        assert read_all(location) == [expected_part(sources, d) for d in range(11)]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(shuffle, "FAN_IN", fan_in)
            patch.setattr(shuffle, "WINDOW_BYTES", window)
            merge_sources(location, in_process, "step")
        assert len(shuffle._stems(location, "step")) <= fan_in
        assert read_all(location) == [expected_part(sources, d) for d in range(11)]
    finally:
        fsspec.filesystem("memory").rm(location.removeprefix("memory://"), recursive=True) \
            if fsspec.filesystem("memory").exists(location.removeprefix("memory://")) else None


def test_merging_in_a_directory_leaves_few_files_with_the_same_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    sources = [[(int(rng.integers(0, 10)), int(rng.integers(0, 2**63))) for _ in range(int(rng.integers(0, 40)))]
               for _ in range(300)]
    write_all(str(tmp_path), sources)
    before = read_all(str(tmp_path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shuffle, "FAN_IN", 8)
        patch.setattr(shuffle, "WINDOW_BYTES", 2048)
        merge_sources(str(tmp_path), in_process, "step")
    files = sorted(path.name for path in (tmp_path / "step").iterdir())
    assert len(files) <= 16 and all(name.endswith("m.npy") or name.endswith("m.starts.npy") for name in files)
    assert read_all(str(tmp_path)) == before == [expected_part(sources, d) for d in range(11)]


def test_decisions_do_not_depend_on_merging_the_shuffle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stored case with every step's files merged two at a time, in windows of a few rows."""
    monkeypatch.setattr(shuffle, "FAN_IN", 2)
    monkeypatch.setattr(shuffle, "WINDOW_BYTES", 300)
    expected: dict[str, Any] = json.loads(EXPECTED.read_text(encoding="utf-8"))
    for name, runs_of in cases():
        got = sharded_runs(tmp_path / name, runs_of, 2, scrambled)
        assert json.loads(json.dumps(got)) == expected[name], name
