"""A large JSONL file is shared by several workers in line-aligned byte ranges, with the same
records, record indexes and decisions as reading it whole."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from conftest import run_cli

from cleaner.document import Source
from cleaner.pipeline import TASK_MAX_BYTES
from cleaner.readers.jsonl import read_jsonl, split_lines

WORDS = ("Regierung Stadt Bericht Wetter Polizei Schule Hafen Bahn Strom Preise Gericht Urteil Wahl "
         "Sprecher Montag Dienstag Kreis Land Bund Verband Zahl Jahr Woche Millionen Euro").split()


def write_lines(path: Path, count: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    lines = []
    for i in range(count):
        if i % 97 == 5:
            lines.append("{broken json")
            continue
        body = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(30, 90))) + "."
        lines.append(json.dumps({"text": f"Meldung {i}\n{body}\nAnzeige\n", "n": i}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def test_ranges_cover_the_file_and_read_like_the_whole(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    write_lines(path, 3000)
    sha, size, ranges = split_lines(path, part_bytes=40_000, chunk_bytes=7_919)
    assert ranges[0].start == 0 and ranges[-1].end == size == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:])) and len(ranges) > 10
    base = Source("dump.jsonl", "t", sha, size, "jsonl")
    whole_errors: list[str] = []
    part_errors: list[str] = []
    whole = [(d.source.record, d.text) for d in read_jsonl(path, base, whole_errors.append)]
    parts = [(d.source.record, d.text) for r in ranges for d in read_jsonl(path, base, part_errors.append, byte_range=r)]
    assert whole == parts and whole_errors == part_errors and len(whole_errors) == 31


def test_large_file_is_split_across_workers_with_identical_results(tmp_path: Path) -> None:
    split_dir, whole_dir = tmp_path / "split", tmp_path / "whole"
    split_dir.mkdir()
    whole_dir.mkdir()
    write_lines(split_dir / "dump.jsonl", 24_000)
    assert (split_dir / "dump.jsonl").stat().st_size > TASK_MAX_BYTES  # more than one task
    (whole_dir / "dump.jsonl.gz").write_bytes(gzip.compress((split_dir / "dump.jsonl").read_bytes()))
    for corpus in (split_dir, whole_dir):
        assert run_cli("clean", corpus, "-o", corpus.with_suffix(".out"), "--glob", "*.jsonl*", "--workers", "2",
                       "--no-dedup") == 0
    split = [json.loads(l) for l in (tmp_path / "split.out" / "documents.jsonl").read_text().splitlines()]
    whole = [json.loads(l) for l in (tmp_path / "whole.out" / "documents.jsonl").read_text().splitlines()]
    assert len(split) == len(whole) > 23_000
    for a, b in zip(split, whole):
        assert (a["text"], a["metadata"]["source"]["record"], a["metadata"]["removed"]) == \
               (b["text"], b["metadata"]["source"]["record"], b["metadata"]["removed"])
    manifest = json.loads((tmp_path / "split.out" / "manifest.json").read_text())
    assert len(manifest["inputs"]) == 1 and manifest["timings"]["tasks"] > 1
    assert len(manifest["inputs"][0]["errors"]) == 248
