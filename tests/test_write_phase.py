"""The write phase in workers: shards cut from per-task part files are the shards one writer
would have written, for any worker count and any work location."""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEEDS, empty_memory_stores, run_cli
from fsspec.implementations.memory import MemoryFileSystem

from cleaner import pipeline, storage
from cleaner.remote import filesystem
from cleaner.writers.assemble import ShardAssembler, ShardJob, plan_shards
from cleaner.writers.shards import ShardedWriter, json_line
from cleaner.writers.task_records import TaskRecordWriter, WrittenTask, part_path

SHARDED = ("--format", "jsonl,parquet,txt", "--compress", "gz", "--shard-size", "7")


@pytest.fixture(autouse=True)
def pinned_time_and_small_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 4_000)  # a dozen tasks or more: shards span tasks


@pytest.fixture(autouse=True)
def empty_memory_store() -> Iterator[None]:
    empty_memory_stores()
    yield
    empty_memory_stores()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def corpus(root: Path, documents: int = 60) -> Path:
    """The seeds, and short generated pages in many small files, so a run has several tasks."""
    rng = random.Random(7)
    lines = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()
             if len(line.split()) >= 8]
    (root / "seeds").mkdir(parents=True)
    for path in SEEDS.glob("*.txt"):
        (root / "seeds" / path.name).write_bytes(path.read_bytes())
    for i in range(documents):
        (root / f"page{i:03d}.txt").write_text("\n".join(rng.sample(lines, 5)) + "\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("shard_size", [None, 1, 3, 10, 1000])
def test_planned_shards_hold_what_one_writer_would_have_cut(tmp_path: Path, shard_size: int | None) -> None:
    """Random part sizes (empty ones too) cut into shards by workers give the files of one
    ShardedWriter fed every record in order: names and bytes, gzip and Parquet alike."""
    rng = random.Random(shard_size)
    work, one, cut = tmp_path / "work", tmp_path / "one", tmp_path / "cut"
    for directory in (work, one, cut):
        directory.mkdir()
    counts, number = [], 0
    writers = [ShardedWriter(one, format=kind, compression=compression, shard_size=shard_size)
               for kind, compression in (("jsonl", "gz"), ("parquet", None))]
    for task in range(12):
        lines = [json_line({"id": f"d{number + i}", "text": "x" * rng.randint(0, 30)}) for i in range(rng.choice([0, 1, 4, 9]))]
        number += len(lines)
        Path(part_path(work, task, "documents")).write_bytes(b"".join(lines))
        counts.append((task, len(lines)))
        for writer in writers:
            writer.write_lines(b"".join(lines))
    for writer in writers:
        writer.close()
    jobs = list(plan_shards("documents", counts, shard_size))
    assert [job.number for job in jobs] == list(range(len(jobs)))
    assert all(sum(s.stop - s.start for s in job.slices) <= (shard_size or number) for job in jobs)
    for kind in ("jsonl", "parquet"):
        for job in reversed(jobs):  # any order: each shard is written on its own
            ShardAssembler(str(work), str(cut), (kind,), "gz" if kind == "jsonl" else None, shard_size)(job)
    assert tree(cut) == tree(one) and len(tree(one)) == 2 * len(jobs)


def test_a_run_without_records_still_writes_one_shard_per_part() -> None:
    assert [(job.part, job.number, job.slices) for job in plan_shards("rejected", [(0, 0), (1, 0)], 5)] == \
        [("rejected", 0, ())]


def test_sharded_outputs_identical_for_1_and_2_workers(tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "in")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        assert run_cli("clean", inputs, "-o", out, "--workers", workers, *SHARDED) == 0
        outputs.append(tree(out))
        assert json.loads((out / "manifest.json").read_text())["timings"]["tasks"] >= 12
    assert outputs[0] == outputs[1]
    assert "documents-00002.jsonl.gz" in outputs[0] and "documents-00002.parquet" in outputs[0]
    assert any(name.startswith("text/") for name in outputs[0])
    assert not (tmp_path / ".out1.work").exists() and not (tmp_path / ".out2.work").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_work_dir_url_gives_the_same_output_and_is_removed(tmp_path: Path, workers: int) -> None:
    """--work-dir as a URL: workers spill and write their parts there, not beside OUT. memory://
    lives in one process, so it is tried with one worker; file:// with two."""
    inputs = corpus(tmp_path / "in", 30)
    assert run_cli("clean", inputs, "-o", tmp_path / "beside", "--workers", workers, *SHARDED) == 0
    work = "memory://bucket/tmp" if workers == 1 else f"file://{tmp_path}/shared/tmp"
    assert run_cli("clean", inputs, "-o", tmp_path / "url", "--workers", workers, "--work-dir", work, *SHARDED) == 0
    assert tree(tmp_path / "url") == tree(tmp_path / "beside")
    assert not (tmp_path / ".url.work").exists()
    if workers == 1:
        assert not [key for key in MemoryFileSystem.store if "cleaner-" in key]  # removed after success
    else:
        assert list((tmp_path / "shared" / "tmp").iterdir()) == []
    # A failed run keeps its finished tasks there (for --resume), and nothing beside OUT.
    (inputs / "zz_kaputt.txt").write_bytes(b"\x00\x01\x02 binary \x00" * 50)
    assert run_cli("clean", inputs, "-o", tmp_path / "url", "--workers", workers, "--work-dir", work,
                   "--on-error", "fail", *SHARDED) == 1
    assert tree(tmp_path / "url") == tree(tmp_path / "beside")
    assert not (tmp_path / ".url.work").exists()
    [prefix] = [name for name in _listing(work) if name.startswith("cleaner-")]
    spilled = storage.list_names(storage.join(work, prefix))
    assert sum(name.endswith(".summary.pkl") for name in spilled) >= 2


def _listing(location: str) -> list[str]:
    fs, path = filesystem(location)
    return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(path, detail=False)]


class DiesMidRecords(TaskRecordWriter):
    """A write-phase worker killed (SIGKILL, as by the OOM killer) after half a part file."""

    def __call__(self, index: int) -> WrittenTask:
        if index == 3:
            Path(part_path(self.work, index, "documents")).write_bytes(b'{"id": "half a rec')
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(index)


class DiesMidShard(ShardAssembler):
    """A worker killed while it writes an output shard into the staged OUT."""

    def __call__(self, job: ShardJob) -> int:
        if job.number == 1:
            (Path(self.staging) / "documents-00001.jsonl.gz").write_bytes(b"\x1f\x8b half a shard")
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(job)


@pytest.mark.parametrize(("name", "dies"), [("TaskRecordWriter", DiesMidRecords), ("ShardAssembler", DiesMidShard)])
def test_a_worker_killed_mid_write_leaves_out_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str], name: str,
                                                        dies: type) -> None:
    inputs = corpus(tmp_path / "in", 30)
    out = tmp_path / "out"
    assert run_cli("clean", inputs / "seeds", "-o", out, "--workers", 2, *SHARDED) == 0
    before = tree(out)
    monkeypatch.setattr(pipeline, name, dies)  # forked workers inherit it
    capsys.readouterr()
    assert run_cli("clean", inputs, "-o", out, "--workers", 2, *SHARDED) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "a worker process died" in error
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [".out.work"]
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 4_000)
    assert run_cli("clean", inputs, "-o", out, "--workers", 2, "--resume", *SHARDED) == 0
    assert run_cli("clean", inputs, "-o", tmp_path / "fresh", "--workers", 2, *SHARDED) == 0
    assert tree(out) == tree(tmp_path / "fresh") != before
