"""Parquet: one document per row, read batch by batch so memory stays bounded.

A row whose text is null or not a string is reported through ``on_error`` as
``"<file>: row <n>: <cause>"`` and skipped; a file that is not Parquet, or has no text
column at all, raises `ReadError` since no row of it can be read.

Values in the other columns are carried into ``meta["fields"]`` as JSON-compatible values
(timestamps and dates as ISO 8601 strings, decimals as strings, binary as base64 with a
``base64:`` prefix), because provenance is written as JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cleaner.document import Document, Source
from cleaner.readers.errors import ReadError, one_line
from cleaner.readers.records import OnError, RecordFields, RowGroups, record_to_document
from cleaner.remote import RemotePath

BATCH_ROWS = 1024


def split_row_groups(path: Path | RemotePath, part_bytes: int, fields: RecordFields) -> list[tuple[RowGroups, int]]:
    """Runs of whole row groups of about `part_bytes` of uncompressed data each, with the bytes
    they take on disk, from the file's footer alone (no data page is read). A row group is the
    smallest part: a file written as one row group stays one part. A file without the content
    column is one part, so its error is reported once, as for an unsplit file."""
    with ExitStack() as scope:
        source = scope.enter_context(path.open("rb")) if isinstance(path, RemotePath) else path
        try:
            metadata = scope.enter_context(pq.ParquetFile(source)).metadata
        except (OSError, pa.ArrowException) as exc:
            raise ReadError(f"{path}: not a readable Parquet file: {one_line(exc)}") from exc
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    if (fields.html_field or fields.text_field) not in metadata.schema.to_arrow_schema().names:
        groups = []
    parts: list[tuple[RowGroups, int]] = []
    first = first_row = rows = used = stored = 0
    for number, group in enumerate(groups):
        if number > first and used + group.total_byte_size > part_bytes:
            parts.append((RowGroups(first, number, first_row), stored))
            first, first_row, used, stored = number, rows, 0, 0
        used += group.total_byte_size
        stored += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        rows += group.num_rows
    if len(groups) > first:
        parts.append((RowGroups(first, len(groups), first_row), stored))
    return parts


def read_parquet(
    path: Path | RemotePath,
    source_base: Source,
    on_error: OnError,
    fields: RecordFields = RecordFields(),
    row_groups: RowGroups | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Document]:
    """Yield one document per row of ``path`` (only of `row_groups`, if given); the record index
    is the 0-based row number in the file."""
    base = replace(source_base, format="parquet")
    with ExitStack() as scope:
        # a remote file is opened here and handed over as a seekable file object; pyarrow
        # would otherwise take the URL for a local path
        source = scope.enter_context(path.open("rb")) if isinstance(path, RemotePath) else path
        try:
            parquet = scope.enter_context(pq.ParquetFile(source))
        except (OSError, pa.ArrowException) as exc:
            raise ReadError(f"{source_base.path}: not a readable Parquet file: {one_line(exc)}") from exc
        content_field = fields.html_field or fields.text_field
        if content_field not in parquet.schema_arrow.names:
            columns = ", ".join(parquet.schema_arrow.names)
            raise ReadError(f"{source_base.path}: no column {content_field!r} (columns: {columns})")
        index = 0 if row_groups is None else row_groups.first_row
        groups = None if row_groups is None else range(row_groups.first, row_groups.stop)
        try:
            batches = parquet.iter_batches(batch_size=batch_rows, row_groups=groups)
            for batch in batches:
                for row in batch.to_pylist():
                    where = f"{source_base.path}: row {index}"
                    record = {key: _json_value(value) for key, value in row.items()}
                    try:
                        yield record_to_document(record, index, where, base, fields)
                    except ValueError as exc:
                        on_error(str(exc))
                    index += 1
        except (OSError, pa.ArrowException) as exc:
            raise ReadError(f"{source_base.path}: corrupt Parquet data after row {index}: {one_line(exc)}") from exc


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "base64:" + base64.b64encode(value).decode("ascii")
    return value
