"""The pieces deduplication spreads over workers: exact Jaccard of pair batches, connected
components by star rounds over hash ranges. Each is checked against a plain-Python definition;
the decisions must not depend on how the work is split or where it runs."""

from __future__ import annotations

import tempfile
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from dedup_support import batch, dedup_tasks, mutate, scrambled, words
from hypothesis import given, settings
from hypothesis import strategies as st

import cleaner.dedup.job as job_module
from cleaner.dedup import DedupSettings
from cleaner.dedup.components import in_process, process_spread
from cleaner.dedup.jaccard import pair_jaccard
from cleaner.dedup.job import Job
from cleaner.dedup.labels import components, write_edges
from cleaner.dedup.shuffle import read_part
from cleaner.spill import read_dedup, write_decisions

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


def labelled(directory: Path, left: np.ndarray, right: np.ndarray, bits: int) -> tuple[dict[int, int], int, dict[str, int]]:
    """Components of these edges by the sharded steps: each node's label, clusters, sizes."""
    job = Job(partial(read_dedup, directory), partial(write_decisions, directory), str(directory), str(directory / "out"),
              (0,), DedupSettings(), bits=bits, para_base=np.zeros(1, dtype=np.int64),
              doc_base=np.zeros(1, dtype=np.int64), paragraphs_end=1 << 40)
    write_edges(job, 0, left, right)
    clusters, sizes = components(job, in_process)
    rows, _ = read_part(str(directory), "roots", 0, {"gid": np.int64, "label": np.int64})
    return dict(zip(rows["gid"].tolist(), rows["label"].tolist())), clusters, sizes


@given(edges, st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_star_rounds_find_the_components(pairs: list[tuple[int, int]], bits: int) -> None:
    pairs = [(a, b) for a, b in pairs if a != b]  # the graph's edges never join a paragraph to itself
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    with tempfile.TemporaryDirectory() as directory:
        labels, clusters, sizes = labelled(Path(directory), left, right, bits)
    expected = oracle_labels(pairs)
    assert labels == expected
    members = Counter(expected.values())
    assert clusters == len(members)
    assert sizes == {str(size): count for size, count in sorted(Counter(members.values()).items())}


def test_star_rounds_settle_a_long_shuffled_chain_in_few_rounds(tmp_path: Path) -> None:
    """A chain of near copies whose numbers are shuffled: label propagation would need as many
    rounds as the chain is long; star rounds need a few dozen."""
    order = np.random.default_rng(4).permutation(3_000)
    labels, clusters, sizes = labelled(tmp_path, order[:-1], order[1:], 2)
    assert labels == dict.fromkeys(range(3_000), 0) and (clusters, sizes) == (1, {"3000": 1})
    rounds = len(list((tmp_path / "star").iterdir()))
    assert rounds < 60


def test_decisions_do_not_depend_on_how_the_work_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Near-copy chains across many documents: pair batches of 3, ranges of 1 to 8, calls run
    out of order or in two processes, give the same decisions and stats as the defaults."""
    base = " ".join(words(1, 150))
    docs = [(f"d{i}", [mutate(base, [10 * i + 5], "x"), " ".join(words(100 + i, 30))]) for i in range(12)]
    docs += [(f"e{i}", [docs[i][1][0]]) for i in range(4)]  # exact copies too
    settings = DedupSettings()
    tasks = [batch(docs[start:start + 5], settings) for start in range(0, len(docs), 5)]
    expected, reference = dedup_tasks(tasks, settings)
    monkeypatch.setattr(job_module, "PAIR_BATCH", 3)
    with process_spread(2) as two_processes:
        for bits, spread in ((3, scrambled), (1, two_processes)):
            decisions, stats = dedup_tasks(tasks, settings, bits=bits, spread=spread)
            assert [d.by_document() for d in decisions] == [d.by_document() for d in expected]
            assert stats == reference
    assert reference.candidate_pairs_linked >= 10
    assert reference.near_paragraphs >= 10
