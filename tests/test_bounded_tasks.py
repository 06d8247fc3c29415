"""Every task is bounded: large JSONL (plain, .gz, .zst) and Parquet inputs are cut into parts
planned by a survey in a worker, and reading them in parts gives exactly the records, record
indexes, ids and errors of reading them whole."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from conftest import SEEDS, run_cli

from cleaner import pipeline
from cleaner.document import Source
from cleaner.pipeline import Settings, TaskCleaner, make_tasks, plan_tasks
from cleaner.readers import ByteRange, OpenStreams, ReadOptions, RowGroups, file_digest, splittable, survey
from cleaner.readers.discover import discover
from cleaner.readers.jsonl import read_jsonl, split_lines
from cleaner.readers.parquet import read_parquet, split_row_groups
from cleaner.readers.records import RecordFields
from cleaner.rules.loader import RuleSet

WORDS = ("Regierung Stadt Bericht Wetter Polizei Schule Hafen Bahn Strom Preise Gericht Urteil Wahl Sprecher "
         "Montag Dienstag Kreis Land Bund Verband Zahl Jahr Woche Millionen Euro Straße Verkehr").split()


def records(count: int, seed: int = 5) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    return [{"text": f"Meldung {i}\n" + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(20, 120))) + ".\n",
             "n": i} for i in range(count)]


def awkward_jsonl(count: int) -> bytes:
    """Records with CRLF endings, blank lines, a malformed line, a record that is not an object,
    and a last line without a newline: every kind of line a part boundary can fall next to."""
    lines = [json.dumps(r, ensure_ascii=False) + ("\r\n" if i % 7 == 3 else "\n") for i, r in enumerate(records(count))]
    for at in range(11, len(lines), 53):
        lines.insert(at, "\n" if at % 2 else "   \r\n")
    lines.insert(40, "{not json\n")
    lines.insert(90, "[1, 2]\n")
    lines[-1] = lines[-1].rstrip("\r\n")
    return "".join(lines).encode()


def write_variants(root: Path, data: bytes) -> dict[str, Path]:
    paths = {"jsonl": root / "dump.jsonl", "gz": root / "dump.jsonl.gz", "zst": root / "dump.jsonl.zst"}
    paths["jsonl"].write_bytes(data)
    paths["gz"].write_bytes(gzip.compress(data, mtime=0))
    paths["zst"].write_bytes(zstandard.ZstdCompressor().compress(data))
    return paths


def read_records(path: Path, parts: list[ByteRange] | None, streams: OpenStreams | None = None
                 ) -> tuple[list[tuple[int | None, str, str]], list[str]]:
    base = Source(path.name, "t", "0" * 64, 0, "jsonl")
    errors: list[str] = []
    found = [(d.source.record, d.id, d.text)
             for part in (parts or [None]) for d in read_jsonl(path, base, errors.append, byte_range=part, streams=streams)]
    return found, errors


@pytest.mark.parametrize("kind", ["jsonl", "gz", "zst"])
def test_line_ranges_read_like_the_whole_file(tmp_path: Path, kind: str) -> None:
    data = awkward_jsonl(600)
    path = write_variants(tmp_path, data)[kind]
    # chunks smaller than a record: records and CRLF pairs straddle chunk boundaries
    sha, size, ranges = split_lines(path, part_bytes=9_000, chunk_bytes=997)
    assert (sha, size) == file_digest(path)  # of the bytes on disk, also when compressed
    assert ranges[0].start == 0 and ranges[-1].end == len(data) and len(ranges) > 20
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:]))
    assert all(data[r.start - 1:r.start] == b"\n" for r in ranges[1:])  # every part starts a line
    assert all(r.first_line == data[:r.start].count(b"\n") + 1 for r in ranges)
    whole, whole_errors = read_records(path, None)
    parts, part_errors = read_records(path, ranges, OpenStreams())
    assert parts == whole and part_errors == whole_errors
    assert whole[-1][0] == data.count(b"\n")  # the last line, without a newline, is read too
    assert [e.split(":")[:2] for e in whole_errors] == [[path.name, "41"], [path.name, "91"]]


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_compressed_parts_in_any_order_and_subset(tmp_path: Path, kind: str) -> None:
    """A worker may get any subset of a file's parts: a kept stream only moves forward, one
    that would have to go back is reopened."""
    path = write_variants(tmp_path, awkward_jsonl(400))[kind]
    _, _, ranges = split_lines(path, part_bytes=6_000)
    whole, _ = read_records(path, None)
    by_part = {r: read_records(path, [r])[0] for r in ranges}
    streams = OpenStreams()
    order = [ranges[3], ranges[4], ranges[9], ranges[1], ranges[-1], ranges[0], ranges[2]]
    assert [read_records(path, [r], streams)[0] for r in order] == [by_part[r] for r in order]
    assert [doc for r in ranges for doc in by_part[r]] == whole


def test_a_part_left_unread_does_not_corrupt_the_next(tmp_path: Path) -> None:
    path = write_variants(tmp_path, awkward_jsonl(300))["gz"]
    _, _, ranges = split_lines(path, part_bytes=6_000)
    streams = OpenStreams()
    base = Source(path.name, "t", "0" * 64, 0, "jsonl")
    next(read_jsonl(path, base, lambda _: None, byte_range=ranges[0], streams=streams))  # abandoned mid-part
    assert read_records(path, [ranges[1]], streams) == read_records(path, [ranges[1]])


def write_parquet(path: Path, rows: list[dict[str, object]], row_group_size: int) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)


def test_row_group_ranges_from_the_footer_read_like_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "dump.parquet"
    rows = records(500)
    rows[123]["text"] = None  # reported with its row number in the file
    write_parquet(path, rows, row_group_size=40)
    parts = split_row_groups(path, 20_000, RecordFields())
    groups = [part for part, _ in parts]
    assert groups[0].first == 0 and groups[-1].stop == 13 and all(a.stop == b.first for a, b in zip(groups, groups[1:]))
    assert [g.first_row for g in groups] == [g.first * 40 for g in groups] and len(groups) > 3
    assert sum(stored for _, stored in parts) < path.stat().st_size
    base = Source("dump.parquet", "t", "0" * 64, 0, "parquet")

    def read(part: RowGroups | None) -> tuple[list[tuple[int | None, str, str]], list[str]]:
        errors: list[str] = []
        return [(d.source.record, d.id, d.text) for d in read_parquet(path, base, errors.append, row_groups=part)], errors

    whole = read(None)
    split = [read(g) for g in groups]
    assert [doc for docs, _ in split for doc in docs] == whole[0]
    assert [e for _, errors in split for e in errors] == whole[1] == ["dump.parquet: row 123: field 'text' is null, not a string"]


def test_a_parquet_file_that_cannot_be_split_is_one_part(tmp_path: Path) -> None:
    one_group, no_text = tmp_path / "one.parquet", tmp_path / "other.parquet"
    write_parquet(one_group, records(300), row_group_size=1000)
    write_parquet(no_text, [{"body": r["text"]} for r in records(300)], row_group_size=10)
    assert len(split_row_groups(one_group, 1_000, RecordFields())) == 1
    assert split_row_groups(no_text, 1_000, RecordFields()) == []  # its missing column is reported once
    assert survey(discover([str(no_text)], "*")[0], ReadOptions(), 1_000) is None


def test_survey_plans_splittable_inputs_and_leaves_broken_ones_whole(tmp_path: Path) -> None:
    paths = write_variants(tmp_path, awkward_jsonl(600))
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(paths["gz"].read_bytes()[:-5000])
    (tmp_path / "small.jsonl").write_bytes(awkward_jsonl(3))
    files = {f.path.name: f for f in discover([str(tmp_path)], "*.jsonl*")}
    read = ReadOptions()
    for kind in ("jsonl", "gz", "zst"):
        item = files[paths[kind].name]
        assert splittable(item, paths[kind].stat().st_size, read, 9_000)
        planned = survey(item, read, 9_000)
        assert planned is not None and (planned.sha256, planned.size) == file_digest(paths[kind])
        assert [part for part, _ in planned.parts] == split_lines(paths["jsonl"], 9_000)[2]
        assert sum(stored for _, stored in planned.parts) == planned.size
    assert not splittable(files["small.jsonl"], 1_000, read, 9_000)
    assert survey(files["cut.jsonl.gz"], read, 9_000) is None  # read whole: its error is reported as always


def test_tasks_keep_input_order_and_batch_small_files_around_split_ones(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "d.txt"):
        (tmp_path / name).write_text("Ein kurzer Text.\n", encoding="utf-8")
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(awkward_jsonl(600), mtime=0))
    files = discover([str(tmp_path)], "*.txt,*.jsonl.gz")
    read = ReadOptions()
    jobs = pipeline.to_survey(files, read, 9_000)
    assert [item.path.name for _, item in jobs] == ["c.jsonl.gz"]
    surveys = {position: survey(item, read, 9_000) for position, item in jobs}
    tasks = make_tasks(files, surveys, max_bytes=9_000)
    assert [t.index for t in tasks] == list(range(len(tasks)))
    assert [[f.path.name for f in t.files] for t in tasks[:2]] == [["a.txt", "b.txt"], ["c.jsonl.gz"]]
    assert [f.path.name for f in tasks[-1].files] == ["d.txt"] and len(tasks) > 10
    split = tasks[1:-1]
    assert {t.digest for t in split} == {file_digest(tmp_path / "c.jsonl.gz")}
    assert [t.continues for t in split] == [False] + [True] * (len(split) - 1)


def clean_tasks(paths: list[Path], rules: RuleSet, part_bytes: int | None) -> tuple[list[tuple[str, ...]], list[str]]:
    """Phase 1 of `paths` split into parts of `part_bytes` (None: one task per file, unsurveyed):
    every document's id, text, claimed lines and language, and every error, in task order."""
    files = discover([str(p) for p in paths], "*")
    read = ReadOptions()
    surveys = {} if part_bytes is None else {i: survey(f, read, part_bytes) for i, f in enumerate(files)}
    tasks = make_tasks(files, surveys, max_files=1)
    assert len(tasks) == 3 if part_bytes is None else len(tasks) > 6
    cleaner = TaskCleaner(rules, Settings(dedup=None))
    documents, errors = [], []
    for task in tasks:
        result = cleaner(task)
        documents += [(d.document.id, d.document.text, repr(sorted(d.claims)), d.lang) for d in result.documents]
        errors += [message for report in result.inputs for message in report.errors]
    return documents, errors


def test_phase_one_is_the_same_in_parts(tmp_path: Path, shipped_rules: RuleSet) -> None:
    paths = write_variants(tmp_path, awkward_jsonl(150))
    pq_path = tmp_path / "dump.parquet"
    write_parquet(pq_path, records(150), row_group_size=16)
    inputs = [paths["gz"], paths["zst"], pq_path]
    whole = clean_tasks(inputs, shipped_rules, None)
    assert clean_tasks(inputs, shipped_rules, 4_000) == whole
    assert len(whole[0]) == 3 * 150 and len(whole[1]) == 4  # the JSONL files' bad lines reported, in both


def test_runs_are_identical_whether_inputs_are_split_or_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end, with deduplication and two workers: only the number of tasks differs."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    corpus = tmp_path / "in"
    corpus.mkdir()
    paragraphs = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text(encoding="utf-8").split("\n\n")]
    rows = [{"text": "\n".join(paragraphs[i % len(paragraphs):][:3]), "id": i} for i in range(240)]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    (corpus / "a.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
    (corpus / "b.jsonl").write_bytes(data)
    write_parquet(corpus / "c.parquet", rows, row_group_size=20)
    outputs = {}
    for name, part_bytes in (("whole", 1 << 30), ("split", 20_000)):
        monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", part_bytes)
        tasks = plan_tasks(discover([str(corpus)], "*.jsonl*,*.parquet"), Settings(workers=2))
        assert (len(tasks) > 12) == (name == "split")
        out = tmp_path / name
        assert run_cli("clean", corpus, "-o", out, "--glob", "*.jsonl*,*.parquet", "--workers", "2",
                       "--format", "jsonl,parquet,txt", "-q") == 0
        outputs[name] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        manifest = json.loads(outputs[name].pop(Path("manifest.json")))
        manifest.pop("timings")
        outputs[name]["manifest"] = json.dumps(manifest).encode()
    assert outputs["split"] == outputs["whole"]


def test_an_interrupted_run_over_split_inputs_resumes_to_the_same_output(
        tmp_path: Path, shipped_rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts planned again on resume are the same parts, so finished ones are taken over."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(pipeline, "TASK_MAX_BYTES", 6_000)
    corpus = tmp_path / "in"
    corpus.mkdir()
    write_variants(corpus, awkward_jsonl(120))
    write_parquet(corpus / "dump.parquet", records(120), row_group_size=10)
    inputs, settings = [str(corpus)], Settings(glob="*.jsonl*,*.parquet", workers=1)
    spilled = 0
    real_spill = pipeline.spill

    def spill_then_stop(spill_dir: Path, result: pipeline.TaskResult) -> pipeline.TaskSummary:
        nonlocal spilled
        if spilled == 5:
            raise KeyboardInterrupt
        spilled += 1
        return real_spill(spill_dir, result)

    monkeypatch.setattr(pipeline, "spill", spill_then_stop)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(inputs, tmp_path / "out", shipped_rules, settings)
    monkeypatch.setattr(pipeline, "spill", real_spill)
    resumed = pipeline.run(inputs, tmp_path / "out", shipped_rules, settings, resume=True)
    pipeline.run(inputs, tmp_path / "fresh", shipped_rules, settings)
    assert resumed.tasks_resumed == 5
    for name in ("documents.jsonl", "rejected.jsonl", "stats.json"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
