"""Output records as Parquet, loadable as is by pyarrow, pandas and Hugging Face ``datasets``.

The Dolma top-level fields are typed columns; ``metadata`` is one JSON string column rather
than a struct. Provenance is heterogeneous: removed spans carry rule-specific detail keys,
carried input fields differ per source, and most lists are empty in one shard and full in
the next. A struct column would need one schema unifying all of that before the first row
is written, shards written independently would get different schemas, and ``datasets``
refuses to concatenate shards whose features differ. A JSON string has one type everywhere,
round-trips exactly what the JSONL output holds, and is one ``json.loads`` away.

Bytes are deterministic for the same records: fixed schema, fixed row-group size, zstd at
a fixed level, no pandas metadata and no timestamps in the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("added", pa.string()),
        pa.field("created", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float64()),
        pa.field("metadata", pa.string()),
    ]
)
ROW_GROUP_ROWS = 1000


class ParquetRecordWriter:
    """Streams records into one Parquet file, a row group per ``row_group_rows`` records."""

    def __init__(self, path: Path, *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.path = Path(path)
        self.count = 0
        self._row_group_rows = row_group_rows
        self._pending: list[dict[str, Any]] = []
        self._writer = pq.ParquetWriter(
            self.path, SCHEMA, compression="zstd", compression_level=3, store_schema=False
        )

    def write(self, record: dict[str, Any]) -> None:
        self._pending.append(to_row(record))
        self.count += 1
        if len(self._pending) >= self._row_group_rows:
            self._flush()

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def __enter__(self) -> ParquetRecordWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _flush(self) -> None:
        if self._pending:
            table = pa.Table.from_pylist(self._pending, schema=SCHEMA)
            self._writer.write_table(table, row_group_size=self._row_group_rows)
            self._pending = []


def write_parquet(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write all records to one Parquet file; returns how many were written."""
    with ParquetRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    return writer.count


def to_row(record: dict[str, Any]) -> dict[str, Any]:
    """The Parquet row of an output record: top-level fields as is, metadata as JSON text."""
    row = {name: record.get(name) for name in SCHEMA.names}
    row["metadata"] = json.dumps(record.get("metadata", {}), ensure_ascii=False)
    return row


def from_row(row: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `to_row`, for readers of our own Parquet output."""
    record = dict(row)
    record["metadata"] = json.loads(row["metadata"]) if row.get("metadata") else {}
    return record
