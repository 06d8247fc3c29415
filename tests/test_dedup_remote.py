"""The sharded dedup's files at a URL (``--work-dir memory://...``, ``--state memory://...``):
ranged reads give the rows a memory map gives, a whole run deduplicates across tasks exactly as
with a local work directory, and a state at a URL is read where it is. memory:// lives in one
process, so runs there use one worker (its steps then run in this process); the local runs
check 1 against 2 workers."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pytest
from conftest import SEEDS, empty_memory_stores, run_cli
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import pipeline
from cleaner.dedup import arrays, tables
from cleaner.dedup.arrays import MappedArray, RangedArray, open_array, save_array
from cleaner.dedup.job import PARA_ROW
from cleaner.dedup.prior import BAND_ROW
from cleaner.dedup.tables import find, read_table, save_table


class CountingMemoryFileSystem(MemoryFileSystem):
    """An in-memory store that counts the bytes read from each object."""

    protocol = "countmem"
    store: dict = {}
    pseudo_dirs = [""]
    read: Counter[str] = Counter()

    @classmethod
    def _strip_protocol(cls, path):  # type: ignore[no-untyped-def]
        if isinstance(path, str) and path.startswith("countmem://"):
            path = "memory://" + path[len("countmem://"):]
        return super()._strip_protocol(path)

    def cat_file(self, path, start=None, end=None, **kwargs):  # type: ignore[no-untyped-def]
        data = super().cat_file(path, start, end, **kwargs)
        CountingMemoryFileSystem.read[self._strip_protocol(path)] += len(data)
        return data

    def _open(self, path, mode="rb", **kwargs):  # type: ignore[no-untyped-def]
        if "r" in mode:  # counted as read whole
            CountingMemoryFileSystem.read[self._strip_protocol(path)] += self.size(path)
        return super()._open(path, mode, **kwargs)


fsspec.register_implementation("countmem", CountingMemoryFileSystem, clobber=True)


@pytest.fixture(autouse=True)
def empty_stores() -> Iterator[None]:
    empty_memory_stores(CountingMemoryFileSystem)
    CountingMemoryFileSystem.read.clear()
    yield
    empty_memory_stores(CountingMemoryFileSystem)


def test_ranged_reads_give_the_rows_of_a_memory_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    para = np.zeros(5000, dtype=PARA_ROW)
    for name in PARA_ROW.names:
        para[name] = rng.integers(0, 1 << 40, len(para))
    shingles = rng.integers(0, 1 << 32, 20000, dtype=np.uint64).astype(np.uint32)
    for name, array in (("para.npy", para), ("shingles.npy", shingles), ("empty.npy", shingles[:0])):
        save_array(str(tmp_path / name), array)
        save_array(f"memory://bucket/chunk/{name}", array)
        local, remote = open_array(str(tmp_path / name)), open_array(f"memory://bucket/chunk/{name}")
        assert isinstance(local, MappedArray) and isinstance(remote, RangedArray)
        assert np.array_equal(remote.whole(), array) and np.array_equal(local.whole(), array)
        for gap in (0, 64, arrays.GAP_BYTES):  # one request per row, a few, one
            monkeypatch.setattr(arrays, "GAP_BYTES", gap)
            at = rng.integers(0, len(array), 300) if len(array) else np.zeros(0, dtype=np.int64)
            at = np.r_[at, at[:10], np.arange(min(len(array), 40))]  # repeated, and a contiguous run
            assert np.array_equal(remote.take(at), array[at]) and np.array_equal(local.take(at), array[at])
    MemoryFileSystem.store["/bucket/chunk/para.npy"].truncate(1000)
    with pytest.raises(ValueError, match="^memory://bucket/chunk/para.npy: shorter than its header says$"):
        open_array("memory://bucket/chunk/para.npy").take(np.array([4999]))


def test_a_small_file_is_read_once(tmp_path: Path) -> None:
    """A file that fits in the first read (a shuffle file's starts, a small table) is served
    from it: the same rows as a large file's reads, and in a store a single request."""
    small = np.arange(40, dtype=np.int64) * 3
    save_array(str(tmp_path / "small.npy"), small)
    save_array("countmem://bucket/small.npy", small)
    CountingMemoryFileSystem.read.clear()
    for array in (open_array(str(tmp_path / "small.npy")), open_array("countmem://bucket/small.npy")):
        assert np.array_equal(array.take(np.array([39, 0, 7, 7])), small[[39, 0, 7, 7]])
        assert np.array_equal(array.span(5, 9), small[5:9]) and np.array_equal(array.whole(), small)
        array.whole()[0] = -1  # a copy: the next read is unchanged
        assert array.take(np.array([0]))[0] == 0 and len(array) == 40
    assert CountingMemoryFileSystem.read["/bucket/small.npy"] == (tmp_path / "small.npy").stat().st_size


def test_a_table_at_a_url_answers_as_a_local_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = np.zeros(3000, dtype=BAND_ROW)
    rows["key"] = np.sort(rng.integers(0, 500, len(rows)).astype(np.uint64))
    rows["band"], rows["gid"] = rng.integers(0, 9, len(rows)), np.arange(len(rows))
    save_table(str(tmp_path / "bands" / "00003"), rows)
    save_table("memory://bucket/bands/00003", rows)
    queries = np.unique(rng.integers(0, 700, 200).astype(np.uint64))
    local, remote = find(str(tmp_path / "bands" / "00003"), queries, BAND_ROW), find("memory://bucket/bands/00003",
                                                                                     queries, BAND_ROW)
    assert len(local[0]) > 100 and all(np.array_equal(a, b) for a, b in zip(local, remote))
    assert np.array_equal(read_table("memory://bucket/bands/00003", BAND_ROW), rows)
    assert len(find("memory://bucket/bands/00004", queries, BAND_ROW)[0]) == 0
    assert len(read_table("memory://bucket/bands/00004", BAND_ROW)) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=200), st.lists(st.integers(0, 45), max_size=30), st.integers(1, 9))
def test_a_fenced_lookup_finds_every_row_of_every_key(keys: list[int], queries: list[int], fence: int) -> None:
    """Whatever the block size, keys repeated across blocks, queries before, between and after
    the table's keys: the rows a lookup returns are exactly those with a queried key."""
    rows = np.zeros(len(keys), dtype=BAND_ROW)
    rows["key"], rows["gid"] = np.sort(np.array(keys, dtype=np.uint64)), np.arange(len(keys))
    asked = np.unique(np.array(queries, dtype=np.uint64))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "FENCE", fence)
        save_table("memory://bucket/fenced/t", rows)
        found, answers = find("memory://bucket/fenced/t", asked, BAND_ROW)
    expected = [(int(q), int(g)) for q in asked for k, g in zip(rows["key"], rows["gid"]) if k == q]
    assert sorted(zip(asked[answers].tolist(), found["gid"].tolist())) == sorted(expected)
    assert (found["key"] == asked[answers]).all()


def test_a_lookup_in_a_large_table_reads_a_few_blocks_of_its_keys() -> None:
    """A state's table is read by the keys asked, not whole: a few queries in a table of a
    million keys read its fence and a block of keys per query, not the 8 MB key file."""
    rng = np.random.default_rng(11)
    rows = np.zeros(1_000_000, dtype=BAND_ROW)
    rows["key"] = np.sort(rng.integers(0, 1 << 62, len(rows)).astype(np.uint64))
    rows["gid"] = np.arange(len(rows))
    save_table("countmem://bucket/big/t", rows)
    CountingMemoryFileSystem.read.clear()
    queries = np.sort(rows["key"][[17, 500_000, 999_990]])
    found, _ = find("countmem://bucket/big/t", np.r_[queries, np.uint64(1 << 63)], BAND_ROW)
    assert found["gid"].tolist() == [17, 500_000, 999_990]
    read = dict(CountingMemoryFileSystem.read)
    assert read["/bucket/big/t.key.npy"] < 3 * 3 * tables.FENCE * 8 + 8192  # a block or two per query, and the header
    assert read["/bucket/big/t.fence.npy"] < 16_000 and read["/bucket/big/t.npy"] < 8192


def corpus(root: Path) -> Path:
    """Pages in many small files (several tasks): long paragraphs copied exactly and nearly
    across files, a footer on every page, and one page dumped twice."""
    rng = random.Random(11)
    pool = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()
            if len(line.split()) >= 25]
    root.mkdir(parents=True)
    for i in range(24):
        near = pool[(7 * i + 1) % len(pool)].replace(" und ", " sowie ", 1).replace(" and ", " as well as ", 1)
        paragraphs = [f"Seite {i}: Nachrichten aus der Region", rng.choice(pool), pool[(5 * i + 3) % len(pool)],
                      near, "Alle Rechte bei Verlag Musterstadt"]
        (root / f"page{i:03d}.txt").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
    (root / "page099.txt").write_bytes((root / "page002.txt").read_bytes())
    return root


def tree(root: Path | str) -> dict[str, bytes]:
    """The files under a directory or a URL, but manifest.json (it names the state and times the run)."""
    if isinstance(root, str):
        fs, _, (path,) = fsspec.get_fs_token_paths(root)
        return {name[len(path) + 1:]: fs.cat_file(name) for name in sorted(fs.find(path))}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


@pytest.mark.parametrize("with_state", [False, True])
def test_dedup_with_a_url_work_dir_gives_the_local_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          with_state: bool) -> None:
    """Byte-identical documents, stats and state (exact, near, recurring and whole-document
    duplicates found across tasks) for a memory:// work location and a local one, 1 and 2
    workers; the scratch goes with the run. With a state (local, and for one of the memory://
    runs at a memory:// URL too), a second run adds more pages."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 4_000)
    pages = corpus(tmp_path / "in")
    later = tmp_path / "later"
    later.mkdir()
    for name in ("page020.txt", "page021.txt", "page022.txt", "page023.txt"):
        (pages / name).rename(later / name)
    results = {}
    url_work = ["--workers", "1", "--work-dir", "memory://bucket/tmp"]
    runs = [("url", url_work), ("local1", ["--workers", "1"]), ("local2", ["--workers", "2"])]
    states = {tag: str(tmp_path / f"state-{tag}") for tag, _ in runs}
    if with_state:
        runs.append(("url-state", url_work))
        states["url-state"] = "memory://bucket/state"
    for tag, argv in runs:
        state = ["--state", states[tag]] if with_state else []
        assert run_cli("clean", pages, "-o", tmp_path / tag, "--format", "jsonl,txt", "-q", *state, *argv) == 0
        results[tag] = tree(tmp_path / tag)
        if with_state:
            assert run_cli("clean", pages, later, "-o", tmp_path / f"{tag}-2", "--format", "jsonl,txt", "-q",
                           *state, *argv) == 0
            results[tag] |= {f"2/{name}": data for name, data in tree(tmp_path / f"{tag}-2").items()}
            where = states[tag] if tag == "url-state" else Path(states[tag])
            results[tag] |= {f"state/{name}": data for name, data in tree(where).items()}
        assert not (tmp_path / f".{tag}.work").exists()
    assert results["url"] == results["local1"] == results["local2"] == results.get("url-state", results["url"])
    if with_state:
        assert len([name for name in results["url"] if name.endswith("/chunks.npy")]) == 2
    manifest = json.loads((tmp_path / "url" / "manifest.json").read_text())
    assert manifest["timings"]["tasks"] >= 5
    found = json.loads(results["url"]["stats.json"])["duplicates"]
    assert found["by_kind"]["exact"]["paragraphs"] > 0 and found["by_kind"]["near"]["paragraphs"] > 0
    assert found["recurring_lines"] > 0 and found["duplicate_documents"] == 1
    assert not MemoryFileSystem().find("/bucket/tmp")  # the work prefix, the dedup scratch in it too


def test_a_later_run_reads_a_url_state_where_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run against a state at a URL reads only what its own keys lead to, never the state
    whole: with text that shares nothing with the first run, it reads the first run's tables'
    key columns and nothing else of it (no row, no chunk). The state's files are written where
    the state is, and a third run finds the second run's paragraphs there."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 4_000)
    first = corpus(tmp_path / "first")
    second = tmp_path / "second"
    second.mkdir()
    pool = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()
            if len(line.split()) >= 25]
    for i in range(6):  # seed paragraphs with their words reversed: no line or shingle of the first run
        lines = [" ".join(reversed(pool[(11 * i + j) % len(pool)].split())) for j in range(3)]
        (second / f"report{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = "countmem://bucket/state"
    options = ["--workers", "1", "--work-dir", "memory://bucket/tmp", "--state", state, "-q"]
    assert run_cli("clean", first, "-o", tmp_path / "out1", *options) == 0
    stored = CountingMemoryFileSystem().find("/bucket/state/runs/00000001")
    assert any("/chunks/" in name for name in stored) and any("/tables/" in name for name in stored)
    CountingMemoryFileSystem.read.clear()
    assert run_cli("clean", second, "-o", tmp_path / "out2", *options) == 0
    earlier = {name: n for name, n in CountingMemoryFileSystem.read.items() if name.startswith("/bucket/state/runs/00000001/")}
    assert earlier and [name for name in earlier if not name.endswith((".key.npy", ".fence.npy"))] == []
    # a third run finds a copy of the second run's text in the chunk the state holds for it
    third = tmp_path / "third"
    third.mkdir()
    (third / "copy.txt").write_text("Nachgedruckt\n" + (second / "report3.txt").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    assert run_cli("clean", third, "-o", tmp_path / "out3", *options) == 0
    rejected = [json.loads(line) for line in (tmp_path / "out3" / "rejected.jsonl").read_text().splitlines()]
    assert [r["metadata"]["rejection"]["duplicate_of"]["path"] for r in rejected] == ["report3.txt"]
    assert {d["duplicate_of"]["path"] for d in rejected[0]["metadata"]["duplicates"]} == {"report3.txt"}
