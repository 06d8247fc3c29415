"""The pieces deduplication may spread over workers: exact Jaccard of pair batches, connected
components of edge chunks, shingle sets gathered from the spill file. Each is checked against a
plain-Python definition; the deduplicator's decisions must not depend on how the work is split."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pytest
from dedup_support import mutate, run, words
from hypothesis import given
from hypothesis import strategies as st

import cleaner.dedup.engine as engine
from cleaner.dedup.components import merge_labels, min_labels, spread_components
from cleaner.dedup.engine import in_process
from cleaner.dedup.jaccard import pair_jaccard
from cleaner.dedup.store import SpillFile

shingle_sets = st.lists(st.sets(st.integers(0, 40), max_size=12).map(sorted), min_size=1, max_size=8)
edges = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=60)


def flat(sets: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=bounds[1:])
    values = np.array([v for s in sets for v in s], dtype=np.uint32)
    return values, bounds


def oracle_labels(pairs: list[tuple[int, int]]) -> dict[int, int]:
    """Each node of the edges -> the smallest node it is connected to (plain union-find)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {node: find(node) for node in parent}


@given(shingle_sets, st.data())
def test_pair_jaccard_is_the_set_definition(sets: list[list[int]], data: st.DataObject) -> None:
    index = st.integers(0, len(sets) - 1)
    pairs = data.draw(st.lists(st.tuples(index, index), max_size=10))
    values, bounds = flat(sets)
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    got = pair_jaccard(values, bounds, left, right).tolist()
    for (a, b), value in zip(pairs, got, strict=True):
        x, y = set(sets[a]), set(sets[b])
        assert value == (len(x & y) / len(x | y) if x | y else 1.0)


def test_pair_jaccard_uses_the_full_shingle_range() -> None:
    """Shingles are 32-bit hashes: the top bit must not leak into the pair tag."""
    top = np.array([2**32 - 1, 2**31, 5, 2**32 - 1, 7], dtype=np.uint32)
    got = pair_jaccard(top, np.array([0, 3, 5]), np.array([0, 1]), np.array([1, 0]))
    assert got.tolist() == [0.25, 0.25]


@given(edges)
def test_min_labels_are_the_components(pairs: list[tuple[int, int]]) -> None:
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    nodes, labels = min_labels(left, right)
    assert dict(zip(nodes.tolist(), labels.tolist())) == oracle_labels(pairs)


def test_min_labels_settle_a_long_shuffled_path() -> None:
    """A path whose node numbers are shuffled: the worst shape for hooking roots to neighbours."""
    rng = np.random.default_rng(4)
    order = rng.permutation(5_000)
    nodes, labels = min_labels(order[:-1], order[1:])
    assert np.array_equal(nodes, np.arange(5_000)) and not labels.any()


@given(edges, st.integers(1, 7))
def test_components_spread_over_chunks_equal_one_pass(pairs: list[tuple[int, int]], chunk: int) -> None:
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    nodes, labels = spread_components(in_process, left, right, chunk)
    expected = oracle_labels(pairs)
    assert dict(zip(nodes.tolist(), labels.tolist())) == expected
    halves = merge_labels(min_labels(left[::2], right[::2]), min_labels(left[1::2], right[1::2]))
    assert dict(zip(halves[0].tolist(), halves[1].tolist())) == expected


def test_gather_reads_the_same_rows_as_pread(tmp_path: Any) -> None:
    store = SpillFile("<u4", 1, str(tmp_path))
    store.append(np.arange(1_000, dtype=np.uint32) * 3)
    rows, counts = np.array([990, 0, 500, 7]), np.array([10, 3, 0, 1])
    expected = np.concatenate([store.read(int(r), int(c)) for r, c in zip(rows, counts)])
    assert np.array_equal(store.gather(rows, counts), expected)
    assert len(store.gather(rows[:0], counts[:0])) == 0
    store.close()


def scrambled(function: Callable[..., Any], calls: Iterable[tuple[Any, ...]], shared: tuple[Any, ...]) -> Iterator[Any]:
    """A spread that runs the calls last to first, as a cluster might finish them."""
    todo = list(calls)
    results = [function(*shared, *arguments) for arguments in reversed(todo)]
    yield from reversed(results)


def test_decisions_do_not_depend_on_how_the_work_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Near-copy chains across many documents: pair batches of 3 and edge chunks of 2, run out
    of order, give the same decisions and stats as the defaults."""
    base = " ".join(words(1, 150))
    docs = [(f"d{i}", [mutate(base, [10 * i + 5], "x"), " ".join(words(100 + i, 30))]) for i in range(12)]
    docs += [(f"e{i}", [docs[i][1][0]]) for i in range(4)]  # exact copies too
    expected, reference = run(docs)
    monkeypatch.setattr(engine, "PAIR_BATCH", 3)
    monkeypatch.setattr("cleaner.dedup.components.EDGES_PER_CHUNK", 2)
    original = engine.Deduplicator.__init__

    def with_scrambled(self: engine.Deduplicator, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.spread = scrambled

    monkeypatch.setattr(engine.Deduplicator, "__init__", with_scrambled)
    decisions, split = run(docs)
    assert decisions == expected
    assert split.stats == reference.stats
    assert reference.stats.candidate_pairs_linked >= 10
    assert reference.stats.near_paragraphs >= 10
