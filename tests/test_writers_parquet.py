from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from io_records import record

from cleaner.readers.compression import open_binary
from cleaner.writers.parquet import SCHEMA, from_row, write_parquet
from cleaner.writers.shards import ShardedWriter, json_line

RECORDS = [record(i) for i in range(7)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_via_pyarrow(tmp_path: Path) -> None:
    path = tmp_path / "documents.parquet"
    assert write_parquet(RECORDS, path) == len(RECORDS)
    table = pq.read_table(path)
    assert table.schema.names == SCHEMA.names
    assert [from_row(row) for row in table.to_pylist()] == RECORDS


def test_round_trip_via_hugging_face_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets", reason="test-only dependency: pip install datasets")
    writer = ShardedWriter(tmp_path, format="parquet", shard_size=3)
    with writer:
        for rec in RECORDS:
            writer.write(rec)
    files = [str(p) for p in writer.paths]
    assert [Path(f).name for f in files] == ["documents-00000.parquet", "documents-00001.parquet", "documents-00002.parquet"]
    dataset = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert dataset.num_rows == len(RECORDS)
    assert dataset.column_names == SCHEMA.names
    assert [from_row(row) for row in dataset] == RECORDS


def test_same_records_same_bytes(tmp_path: Path) -> None:
    write_parquet(RECORDS, tmp_path / "a.parquet")
    write_parquet(RECORDS, tmp_path / "b.parquet")
    assert digest(tmp_path / "a.parquet") == digest(tmp_path / "b.parquet")


@pytest.mark.parametrize("compression", [None, "gz", "zst"])
def test_jsonl_shards_split_by_record_count_and_are_deterministic(tmp_path: Path, compression: str | None) -> None:
    outputs = []
    for run in ("one", "two"):
        directory = tmp_path / run
        directory.mkdir()
        with ShardedWriter(directory, compression=compression, shard_size=3) as writer:
            for rec in RECORDS:
                writer.write(rec)
        outputs.append(writer.paths)
    suffix = ".jsonl" + (f".{compression}" if compression else "")
    assert [p.name for p in outputs[0]] == [f"documents-{n:05d}{suffix}" for n in range(3)]
    assert [digest(p) for p in outputs[0]] == [digest(p) for p in outputs[1]]
    lines = []
    for path in outputs[0]:
        with open_binary(path) as stream:
            lines.extend(stream.read().decode("utf-8").splitlines())
    assert lines == [json.dumps(rec, ensure_ascii=False, separators=(",", ":")) for rec in RECORDS]
    assert "😀" in lines[0]  # ensure_ascii=False


def test_single_file_without_shard_size_and_empty_output(tmp_path: Path) -> None:
    with ShardedWriter(tmp_path, compression="gz") as writer:
        for rec in RECORDS:
            writer.write(rec)
    assert [p.name for p in writer.paths] == ["documents.jsonl.gz"]
    empty = ShardedWriter(tmp_path / ".", stem="rejected", format="parquet")
    assert [p.name for p in empty.close()] == ["rejected.parquet"]
    assert pq.read_table(tmp_path / "rejected.parquet").num_rows == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "csv"}, "unknown output format 'csv'"),
        ({"compression": "bz2"}, "unknown compression 'bz2'"),
        ({"format": "parquet", "compression": "gz"}, "Parquet output is compressed internally"),
        ({"shard_size": 0}, "shard size must be at least 1 record, got 0"),
    ],
)
def test_bad_settings_rejected(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ShardedWriter(tmp_path, **kwargs)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 1e-05, 0.1, 2.5e300, "\u2028 \x7f \x00 \ud7ff \U0001f600", [None, True]])
def test_json_line_is_compact_json_whatever_the_input_fields(value: object) -> None:
    """Input fields go into records as they came: an integer orjson refuses takes the json path,
    in the same compact form; every line is one line of UTF-8 JSON that reads back the same."""
    rec = {"id": "x", "metadata": {"input": {"fields": {"n": value}}}}
    line = json_line(rec)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == rec
    assert b'": ' not in line and b'", ' not in line
