"""The sharded deduplication against the decisions of the single-pass engine it replaced.

tests/data/dedup_expected.json holds, for small generated corpora (fixed seeds: exact
copies, near copies, recurring lines on several sites, navigation copies, copies of whole
documents, punctuation-only lines), the decisions and stats the single-pass `Deduplicator`
computed, task by task, in one run and in two or three incremental runs with a state. The
sharded engine must give the same on every case, for any number of hash ranges, any order in
which a cluster finishes the calls, and whether the state was compacted or not. The old engine
removed copies inside one document too: that is `within_document="remove"` now.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dedup_support import batch, dedup_tasks, mutate, scrambled, words

import cleaner.dedup.state as runs
from cleaner.dedup import DedupBatch, DedupSettings, job
from cleaner.dedup.components import in_process
from cleaner.dedup.job import group_tasks

EXPECTED = Path(__file__).parent / "data" / "dedup_expected.json"
SETTINGS = DedupSettings(within_document="remove")  # the single-pass engine's behaviour
SHORT = ["Home", "Contact us", "Share this", "Read more", "Sign in", "Privacy policy", "Subscribe now", "Next page"]


def corpus(seed: int, n_docs: int) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Documents as (id, paragraphs) and their sites."""
    rng = random.Random(seed)
    pool = [" ".join(words(seed * 1000 + i, rng.randint(15, 60))) for i in range(12)]
    docs: list[tuple[str, list[str]]] = []
    for d in range(n_docs):
        paragraphs: list[str] = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.3:
                paragraphs.append(rng.choice(pool))
            elif r < 0.5:
                text = rng.choice(pool)
                paragraphs.append(mutate(text, [rng.randrange(len(text.split()))], f"m{rng.randrange(3)}"))
            elif r < 0.75:
                paragraphs.append(rng.choice(SHORT))
            elif r < 0.8:
                paragraphs.append("!!! ---")
            else:
                paragraphs.append(" ".join(words(seed * 7919 + d * 31 + len(paragraphs), rng.randint(3, 40))))
        if docs and rng.random() < 0.1:
            paragraphs = list(rng.choice(docs)[1])
        docs.append((f"s{seed}d{d}", paragraphs))
    return docs, [f"host:site{rng.randrange(3)}" for _ in docs]


def cases() -> Iterator[tuple[str, list[list[DedupBatch]]]]:
    """(name, runs: each a list of task batches) for every stored case."""
    settings = SETTINGS
    for seed in range(8):
        docs, sites = corpus(seed, 60)
        rng = random.Random(seed)
        cuts = [0, *sorted(rng.sample(range(1, len(docs)), 6)), len(docs)]
        tasks = [batch(docs[a:b], settings, sites[a:b]) for a, b in zip(cuts, cuts[1:])]
        split = [0, *sorted(rng.sample(range(1, len(tasks)), seed % 3)), len(tasks)]
        yield f"seed{seed}", [tasks[a:b] for a, b in zip(split, split[1:])]


def rendered(decisions: Any) -> dict[str, Any]:
    return {doc_id: {"removals": [[line, claim.rule, claim.detail] for line, claim in decision.removals],
                     "rejection": None if decision.rejection is None else [decision.rejection.reason, decision.rejection.detail]}
            for doc_id, decision in decisions.by_document().items()}


def sharded_runs(tmp_path: Path, runs_of: list[list[DedupBatch]], bits: int, spread: Any = in_process,
                 group: int = 1) -> list[Any]:
    """Every run's per-task decisions (rendered) and stats, from the sharded engine with a state."""
    out = []
    for tasks in runs_of:
        found, stats = dedup_tasks(list(tasks), SETTINGS, tmp_path / "state", bits=bits, spread=spread, group=group)
        out.append({"tasks": [rendered(decisions) for decisions in found],
                    "stats": {name: getattr(stats, name) for name in stats.__slots__ if name != "spill_bytes"}})
    return out


@pytest.mark.parametrize(("bits", "group"), [(0, 1), (2, 1), (2, 3), (1, 100)])
def test_decisions_and_stats_equal_the_single_pass_engines(tmp_path: Path, bits: int, group: int) -> None:
    """Whatever the hash ranges and however many phase-1 tasks one dedup task reads."""
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    for name, runs_of in cases():
        got = sharded_runs(tmp_path / name, runs_of, bits, scrambled if bits else in_process, group)
        assert json.loads(json.dumps(got)) == expected[name], name


def test_group_tasks_cuts_consecutive_runs_by_size() -> None:
    assert group_tasks([5, 5, 5, 20, 1, 1], target=10) == [range(0, 2), range(2, 3), range(3, 4), range(4, 6)]
    assert group_tasks([3, 3], target=10, first=7) == [range(7, 9)]
    assert group_tasks([], target=10) == []
    # by default a small run is cut into about TASK_SPREAD dedup tasks, a large one by TASK_BYTES
    assert len(group_tasks([10] * 32)) == 16 and len(group_tasks([10] * 31)) == 16
    assert group_tasks([job.TASK_BYTES // 2] * 64) == [range(at, at + 2) for at in range(0, 64, 2)]


def test_compacted_state_gives_the_same_decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    name, runs_of = next((name, runs_of) for name, runs_of in cases() if len(runs_of) == 3)
    monkeypatch.setattr(runs, "COMPACT_AFTER", 1)
    got = sharded_runs(tmp_path, runs_of, 2)
    assert json.loads(json.dumps(got)) == expected[name]
    index = json.loads((tmp_path / "state" / "index.json").read_text())
    assert len(index["runs"]) == 3 and index["tables"] == [index["runs"][-1]["name"]]
    assert sorted(p.name for p in (tmp_path / "state" / "runs").iterdir()) == [run["name"] for run in index["runs"]]
    assert [p.name for p in (tmp_path / "state" / "runs").glob("*/tables")] == ["tables"]
