"""The Ray engine gives the same output as the local engine, on a local 2-CPU Ray instance.

One Ray instance is started for the module (starting one takes seconds) and stopped after.
"""

from __future__ import annotations

import gzip
import json
import pickle
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="the Ray engine needs the optional extra: pip install 'cleaner[ray]'")

from conftest import SEEDS
from dedup_support import batch, dedup_tasks, words
from dedup_support import mutate as mutate_words

from cleaner import pipeline
from cleaner.dedup import DedupSettings
from cleaner.dedup.components import in_process
from cleaner.dedup.jaccard import pair_jaccard
from cleaner.dedup.resolve import band_pairs
from cleaner.engines.ray import RayEngine
from cleaner.filters.classifier import ClassifierSettings
from cleaner.pipeline import InputFailure, Settings, make_tasks, run
from cleaner.readers.discover import discover
from cleaner.rules.loader import RuleSet
from cleaner.stages import StageSettings

COMPARED = ("documents.jsonl", "rejected.jsonl", "stats.json")
FOOTER = "Alle Rechte vorbehalten"


@pytest.fixture(scope="module", autouse=True)
def ray_instance() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="warning")
    yield
    ray.shutdown()


@pytest.fixture(autouse=True)
def pinned_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def seed_paragraphs() -> list[str]:
    lines = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if len(line.split()) >= 20]


def mutate(text: str, rng: random.Random) -> str:
    """A near duplicate: one or two words replaced, well above the 0.8 Jaccard threshold."""
    words = text.split()
    for _ in range(rng.randint(1, 2)):
        words[rng.randrange(len(words))] = rng.choice(("heute", "gestern", "morgen", "today"))
    return " ".join(words)


def build_corpus(root: Path, count: int, seed: int = 3) -> None:
    """The seeds, then `count` documents mixing seed paragraphs, exact and near copies, and a
    footer that recurs everywhere: every dedup rule fires, over more than one task."""
    root.mkdir(parents=True)
    for path in sorted(SEEDS.glob("*.txt")):
        (root / path.name).write_bytes(path.read_bytes())
    rng = random.Random(seed)
    pool = seed_paragraphs()
    for i in range(count):
        chosen = rng.sample(pool, rng.randint(2, 5))
        paragraphs = [mutate(p, rng) if rng.random() < 0.5 else p for p in chosen]
        title = f"Meldung {i}: " + " ".join(rng.sample(chosen[0].split(), 4))
        (root / f"gen_{i:03d}.txt").write_text("\n".join([title, *paragraphs, FOOTER]) + "\n", encoding="utf-8")


def clean(inputs: list[Path], out: Path, rules: RuleSet, engine: str, state: Path | None = None) -> None:
    # The line classifier would take the recurring footer before the recurring-line signal saw it;
    # these tests are about the dedup phases (the classifier's determinism: tests/test_classifier.py).
    settings = Settings(engine=engine, workers=2, formats=("jsonl", "txt"),
                        stages=StageSettings(classifier=ClassifierSettings(enabled=False)))
    run([str(p) for p in inputs], out, rules, settings, state=state)


def assert_same_output(local: Path, distributed: Path) -> None:
    for name in COMPARED:
        assert (local / name).read_bytes() == (distributed / name).read_bytes(), name
    texts = {path.relative_to(local): path.read_bytes() for path in (local / "text").rglob("*") if path.is_file()}
    assert texts  # the actors built them, the driver wrote them
    assert texts == {path.relative_to(distributed): path.read_bytes()
                     for path in (distributed / "text").rglob("*") if path.is_file()}


def test_ray_run_is_byte_identical_to_local(tmp_path: Path, shipped_rules: RuleSet) -> None:
    corpus = tmp_path / "corpus"
    build_corpus(corpus, 100)
    assert len(make_tasks(discover([str(corpus)], "*.txt"))) >= 2  # the work is really spread
    clean([corpus], tmp_path / "local", shipped_rules, "local")
    clean([corpus], tmp_path / "ray", shipped_rules, "ray")
    assert_same_output(tmp_path / "local", tmp_path / "ray")
    stats = json.loads((tmp_path / "ray" / "stats.json").read_text())
    assert stats["duplicates"]["by_kind"]["near"]["paragraphs"] > 10  # every kind of duplicate occurred
    assert stats["duplicates"]["by_kind"]["exact"]["paragraphs"] > 10
    assert stats["duplicates"]["recurring_lines"] >= 100  # the footer of every generated document


def test_split_inputs_are_identical_on_ray(tmp_path: Path, shipped_rules: RuleSet,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A .jsonl.gz and a Parquet file cut into parts (planned by actors, read by several actors,
    each keeping its decompressed stream between parts) give the local engine's output."""
    corpus = tmp_path / "corpus"
    build_corpus(corpus, 60)
    rows = [{"text": path.read_text(encoding="utf-8"), "n": i} for i, path in enumerate(sorted(corpus.glob("*.txt")))]
    (corpus / "dump.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode(), mtime=0))
    pq.write_table(pa.Table.from_pylist(rows), corpus / "dump.parquet", row_group_size=8)
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 12_000)
    inputs = [corpus / "dump.jsonl.gz", corpus / "dump.parquet"]
    assert len(pipeline.plan_tasks(discover([str(p) for p in inputs], "*"), Settings())) > 8
    clean(inputs, tmp_path / "local", shipped_rules, "local")
    clean(inputs, tmp_path / "ray", shipped_rules, "ray")
    assert_same_output(tmp_path / "local", tmp_path / "ray")
    assert json.loads((tmp_path / "ray" / "manifest.json").read_text())["timings"]["tasks"] > 8


def test_incremental_runs_are_identical(tmp_path: Path, shipped_rules: RuleSet,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With --state, the candidate pairs reach back into earlier runs' paragraphs. The sharded
    dedup's steps run on the actors (a local process pool would fail the Ray runs), over
    several tasks, and both engines commit the same state."""
    first, second = tmp_path / "first", tmp_path / "second"
    build_corpus(first, 40, seed=5)
    build_corpus(second, 40, seed=6)
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 8_000)
    assert len(pipeline.plan_tasks(discover([str(second)], "*.txt"), Settings())) >= 3
    for engine in ("local", "ray"):
        if engine == "ray":
            monkeypatch.setattr(pipeline, "process_spread", no_process_pool)
        clean([first], tmp_path / f"{engine}-1", shipped_rules, engine, tmp_path / f"{engine}-state")
        clean([second], tmp_path / f"{engine}-2", shipped_rules, engine, tmp_path / f"{engine}-state")
    assert_same_output(tmp_path / "local-1", tmp_path / "ray-1")
    assert_same_output(tmp_path / "local-2", tmp_path / "ray-2")
    assert "dedup.near" in (tmp_path / "ray-2" / "documents.jsonl").read_text()
    index = (tmp_path / "ray-state" / "index.json").read_bytes()
    assert len(json.loads(index)["runs"]) == 2
    assert index == (tmp_path / "local-state" / "index.json").read_bytes()


def no_process_pool(workers: int) -> None:
    raise AssertionError("the Ray engine deduplicated in a local process pool, not on its actors")


def test_input_failure_is_raised_as_itself(tmp_path: Path, shipped_rules: RuleSet) -> None:
    corpus = tmp_path / "corpus"
    build_corpus(corpus, 3)
    (corpus / "kaputt.txt").write_bytes(b"\x00\x01\x02 binary \x00" * 50)
    settings = Settings(engine="ray", workers=2, on_error="fail")
    with pytest.raises(InputFailure, match=r"^kaputt\.txt: ") as caught:
        run([str(corpus)], tmp_path / "out", shipped_rules, settings)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_engine_calls_on_the_running_instance() -> None:
    """Band grouping, pair verification and the whole sharded deduplication spread over the
    actors match the in-process results; every task result reaches the driver; the instance the
    engine found running is used (its 2 CPUs, not a new 1-CPU one) and kept."""
    rng = np.random.default_rng(1)
    holders = np.sort(rng.choice(10_000, size=3_000, replace=False)).astype(np.int64)
    columns = [(rng.integers(0, 400, size=len(holders)).astype(np.uint64),) for _ in range(7)]  # crowded buckets
    shared = (holders, 2_000)
    sets = [np.unique(rng.integers(0, 60, size=int(rng.integers(1, 30)))).astype(np.uint32) for _ in range(50)]
    bounds = np.concatenate([[0], np.cumsum([len(x) for x in sets])])
    batches = [(np.concatenate(sets), bounds, rng.integers(0, 50, size=200), rng.integers(0, 50, size=200)) for _ in range(5)]
    base = " ".join(words(1, 150))
    docs = [(f"d{i}", [mutate_words(base, [10 * i + 5], "x"), " ".join(words(100 + i, 30))]) for i in range(12)]
    tasks = [batch(docs[start:start + 4], DedupSettings()) for start in range(0, len(docs), 4)]
    seen: list[int] = []
    with RayEngine(num_cpus=1) as engine:
        keys = list(engine.spread(band_pairs, iter(columns), shared))
        jaccard = list(engine.spread(pair_jaccard, iter(batches), ()))
        decisions, stats = dedup_tasks(tasks, bits=2, spread=engine.spread)
        engine.map_tasks(lambda: (lambda n: n * n), range(9), seen.append)
        engine.map_tasks(lambda: (lambda n: -n), range(3), seen.append)  # the same actors, a new runner
        engine.map_tasks(lambda: (lambda n: n), [], seen.append)  # nothing to do
        assert len(engine._actors()) == 2
    local_keys = list(in_process(band_pairs, columns, shared))
    assert sum(len(k) for k in local_keys) > 1000
    for got, expected in zip(keys, local_keys, strict=True):  # in the order of the calls
        np.testing.assert_array_equal(got, expected)
    for got, expected in zip(jaccard, in_process(pair_jaccard, batches, ()), strict=True):
        np.testing.assert_array_equal(got, expected)
    local_decisions, local_stats = dedup_tasks(tasks, bits=2)
    assert [d.by_document() for d in decisions] == [d.by_document() for d in local_decisions]
    assert stats == local_stats and stats.near_paragraphs >= 10
    assert sorted(seen) == sorted([n * n for n in range(9)] + [0, -1, -2])
    assert ray.is_initialized()  # not this engine's to stop


def test_cli_engine_ray_matches_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run_cli

    assert run_cli("clean", SEEDS, "-o", tmp_path / "local", "--engine", "local", "--format", "jsonl,txt") == 0
    assert run_cli("clean", SEEDS, "-o", tmp_path / "ray", "--engine", "ray", "--workers", "2",
                   "--format", "jsonl,txt") == 0
    assert_same_output(tmp_path / "local", tmp_path / "ray")
    capsys.readouterr()
    assert run_cli("clean", SEEDS, "-o", tmp_path / "x", "--ray-address", "auto") == 2
    assert "--ray-address needs --engine ray" in capsys.readouterr().err


def test_only_counts_reach_the_driver(tmp_path: Path, shipped_rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Actors spill, write records, texts and shards themselves (here through a file:// work
    location, as on a cluster with --work-dir URL): what they send back is counts, a small
    fraction of the output, and no documents or records."""
    corpus = tmp_path / "corpus"
    build_corpus(corpus, 100)
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 20_000)
    received: list[bytes] = []
    real_map = RayEngine.map_tasks

    def recording(self: RayEngine, factory: Any, tasks: Any, on_done: Any) -> None:
        real_map(self, factory, tasks, lambda result: (received.append(pickle.dumps(result)), on_done(result)))

    monkeypatch.setattr(RayEngine, "map_tasks", recording)
    settings = Settings(engine="ray", workers=2, formats=("jsonl", "parquet", "txt"), compress="zst", shard_size=40,
                        stages=StageSettings(classifier=ClassifierSettings(enabled=False)))
    run([str(corpus)], tmp_path / "ray", shipped_rules, settings, work_dir=f"file://{tmp_path}/shared")
    monkeypatch.setattr(RayEngine, "map_tasks", real_map)
    run([str(corpus)], tmp_path / "local", shipped_rules, replace(settings, engine="local"))
    written = {p.relative_to(tmp_path / "ray").as_posix(): p.read_bytes() for p in (tmp_path / "ray").rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert written == {p.relative_to(tmp_path / "local").as_posix(): p.read_bytes()
                       for p in (tmp_path / "local").rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert "documents-00002.jsonl.zst" in written and "documents-00002.parquet" in written
    assert len(received) > 3 * 5  # phase 1, records and shards, several tasks each
    assert sum(map(len, received)) < sum(map(len, written.values())) / 10
    assert not any(b"Alle Rechte" in result or b"TaskResult" in result for result in received)
    assert list((tmp_path / "shared").iterdir()) == []


def test_a_lost_actor_fails_the_run_and_leaves_out(tmp_path: Path, shipped_rules: RuleSet,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    from cleaner.engines.local import WorkerLost
    from cleaner.writers.task_records import TaskRecordWriter

    corpus = tmp_path / "corpus"
    build_corpus(corpus, 30)
    clean([corpus / "gen_000.txt"], tmp_path / "out", shipped_rules, "ray")
    before = sorted((p.name, p.read_bytes()) for p in (tmp_path / "out").rglob("*") if p.is_file())

    class DiesMidWrite(TaskRecordWriter):  # defined here, so Ray ships it to the actors by value
        def __call__(self, index: int) -> Any:
            os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(pipeline, "TaskRecordWriter", DiesMidWrite)
    with pytest.raises(WorkerLost, match="^a worker process died"):
        clean([corpus], tmp_path / "out", shipped_rules, "ray")
    assert sorted((p.name, p.read_bytes()) for p in (tmp_path / "out").rglob("*") if p.is_file()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == [".out.work"]
