from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from io_helpers import source_for

from cleaner.document import document_id
from cleaner.readers.errors import ReadError
from cleaner.readers.parquet import read_parquet
from cleaner.readers.records import RecordFields


def read_all(path: Path, root: Path, fields: RecordFields = RecordFields(), batch_rows: int = 1024) -> tuple[list, list[str]]:
    errors: list[str] = []
    docs = list(read_parquet(path, source_for(path, root, "parquet"), errors.append, fields, batch_rows=batch_rows))
    return docs, errors


def test_rows_become_documents_across_row_groups(tmp_path: Path) -> None:
    n = 25
    table = pa.table(
        {
            "doc_id": [f"d{i}" for i in range(n)],
            "text": [f"Dokument {i}\nmit Zeile." for i in range(n)],
            "url": [f"https://example.org/{i}" if i % 2 else None for i in range(n)],
            "score": [i / 10 for i in range(n)],
            "crawled": [dt.datetime(2024, 1, 1, 12, 0, i) for i in range(n)],
            "raw": [b"\x00\x01" for _ in range(n)],
        }
    )
    path = tmp_path / "part.parquet"
    pq.write_table(table, path, row_group_size=10)
    docs, errors = read_all(path, tmp_path, RecordFields(id_field="doc_id"), batch_rows=4)
    assert errors == []
    assert [d.source.record for d in docs] == list(range(n))
    assert docs[3].text == "Dokument 3\nmit Zeile."
    assert docs[3].source.url == "https://example.org/3" and docs[2].source.url is None
    assert docs[3].source.format == "parquet"
    assert docs[3].meta == {
        "record_id": "d3",
        "fields": {"score": 0.3, "crawled": "2024-01-01T12:00:03", "raw": "base64:AAE="},
    }
    assert docs[3].id == document_id(docs[3].source)
    assert len({d.id for d in docs}) == n


def test_null_and_non_string_text_rows_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"text": ["eins", None, "drei"]}), path)
    docs, errors = read_all(path, tmp_path)
    assert [(d.text, d.source.record) for d in docs] == [("eins", 0), ("drei", 2)]
    assert errors == ["nulls.parquet: row 1: field 'text' is null, not a string"]
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), path)
    docs, errors = read_all(path, tmp_path)
    assert docs == [] and errors[0] == "ints.parquet: row 0: field 'text' is int, not a string"


def test_missing_text_column_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"body": ["x"], "id": [1]}), path)
    with pytest.raises(ReadError, match=r"^notext\.parquet: no column 'text' \(columns: body, id\)$"):
        read_all(path, tmp_path)


def test_not_parquet_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ReadError, match=r"^fake\.parquet: not a readable Parquet file: "):
        read_all(path, tmp_path)


def test_html_column(tmp_path: Path) -> None:
    page = "<html><body><article><h1>Kopf</h1><p>" + "Ein Satz mit genug Inhalt für trafilatura. " * 6 + "</p></article></body></html>"
    path = tmp_path / "html.parquet"
    pq.write_table(pa.table({"html": [page], "text": ["ignored"]}), path)
    (doc,), errors = read_all(path, tmp_path, RecordFields(html_field="html"))
    assert errors == [] and doc.text.startswith("Kopf\nEin Satz") and doc.meta["fields"] == {"text": "ignored"}
