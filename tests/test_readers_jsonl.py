from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_helpers import source_for

from cleaner.document import document_id
from cleaner.readers.compression import open_binary, strip_compression_suffix
from cleaner.readers.errors import ReadError
from cleaner.readers.jsonl import read_jsonl
from cleaner.readers.records import RecordFields

RECORDS = [
    {"id": "a1", "text": "Erster Text.\nZweite Zeile.", "url": "https://example.org/1", "lang": "de", "tags": ["x", 1]},
    {"id": "a2", "text": "Second text with ümlauts and 😀.", "meta": {"nested": {"k": None}}},
]


def write_lines(path: Path, lines: list[str]) -> Path:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def read_all(path: Path, root: Path, fields: RecordFields = RecordFields()) -> tuple[list, list[str]]:
    errors: list[str] = []
    docs = list(read_jsonl(path, source_for(path, root, "jsonl"), errors.append, fields))
    return docs, errors


@pytest.mark.parametrize("name", ["dump.jsonl", "dump.jsonl.gz", "dump.jsonl.zst"])
def test_records_with_extra_fields_carried(tmp_path: Path, name: str) -> None:
    path = write_lines(tmp_path / name, [json.dumps(r, ensure_ascii=False) for r in RECORDS])
    docs, errors = read_all(path, tmp_path, RecordFields(id_field="id"))
    assert errors == []
    assert [d.text for d in docs] == [r["text"] for r in RECORDS]
    first, second = docs
    assert first.source.record == 0 and second.source.record == 1
    assert first.source.url == "https://example.org/1" and second.source.url is None
    assert first.source.format == "jsonl" and first.source.path == name
    assert first.meta == {"record_id": "a1", "fields": {"lang": "de", "tags": ["x", 1]}}
    assert second.meta == {"record_id": "a2", "fields": {"meta": {"nested": {"k": None}}}}
    assert first.id == document_id(first.source) and first.id != second.id


def test_without_id_field_the_id_is_an_ordinary_field(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(RECORDS[0])])
    (doc,), _ = read_all(path, tmp_path)
    assert "record_id" not in doc.meta and doc.meta["fields"]["id"] == "a1"


def test_malformed_lines_reported_with_line_number_and_skipped(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "gut eins"}),
        "{not json",
        "",
        json.dumps({"body": "kein text-feld"}),
        json.dumps({"text": 42}),
        json.dumps({"text": None}),
        json.dumps(["a", "list"]),
        json.dumps({"text": "gut zwei"}),
    ]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    path.write_bytes(path.read_bytes() + b'{"text": "Gr\xfc\xdfe aus M\xfcnchen"}\n')
    docs, errors = read_all(path, tmp_path)
    assert [(d.text, d.source.record) for d in docs[:2]] == [("gut eins", 0), ("gut zwei", 7)]
    latin = docs[2]  # not UTF-8: decoded like a text file, not dropped, with the encoding recorded
    assert latin.text == "Grüße aus München" and latin.source.record == 8
    assert latin.source.encoding not in (None, "utf-8") and docs[0].source.encoding is None
    assert errors == [
        "bad.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes at column 2",
        "bad.jsonl:4: missing field 'text'",
        "bad.jsonl:5: field 'text' is int, not a string",
        "bad.jsonl:6: field 'text' is null, not a string",
        "bad.jsonl:7: record is a JSON list, not an object",
    ]


def test_custom_text_and_url_fields(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", [json.dumps({"content": "Hallo", "link": "https://x.example/", "url": "u"})])
    (doc,), errors = read_all(path, tmp_path, RecordFields(text_field="content", url_field="link"))
    assert errors == [] and doc.text == "Hallo" and doc.source.url == "https://x.example/"
    assert doc.meta["fields"] == {"url": "u"}
    path = write_lines(tmp_path / "n.jsonl", [json.dumps({"text": "Hallo", "url": None})])
    (doc,), _ = read_all(path, tmp_path)
    assert doc.source.url is None and doc.meta["fields"] == {"url": None}


ARTICLE_HTML = (
    "<html><head><title>Titel</title></head><body><nav><a href='/'>Start</a> <a href='/x'>Mehr</a></nav>"
    "<article><h1>Die Überschrift</h1><p>" + "Ein ganz normaler Satz mit Inhalt für den Test. " * 8 + "</p></article>"
    "<footer>Impressum</footer></body></html>"
)


def test_html_records_detected_and_extracted(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "h.jsonl",
        [json.dumps({"text": ARTICLE_HTML, "url": "https://news.example/a"}), json.dumps({"text": "Text mit <p> drin"})],
    )
    (html_doc, plain_doc), errors = read_all(path, tmp_path)
    assert errors == []
    assert html_doc.text.startswith("Die Überschrift\nEin ganz normaler Satz")
    assert "Impressum" not in html_doc.text and "Start" not in html_doc.text
    assert html_doc.meta["html_field"] == "text" and html_doc.meta["hostname"] == "news.example"
    assert html_doc.source.url == "https://news.example/a"
    assert plain_doc.text == "Text mit <p> drin"


def test_html_field_option_and_detection_off(tmp_path: Path) -> None:
    record = {"html": ARTICLE_HTML, "text": "<p>kept as is</p>"}
    path = write_lines(tmp_path / "h.jsonl", [json.dumps(record)])
    (doc,), _ = read_all(path, tmp_path, RecordFields(html_field="html"))
    assert doc.text.startswith("Die Überschrift") and doc.meta["fields"] == {"text": "<p>kept as is</p>"}
    (doc,), _ = read_all(path, tmp_path, RecordFields(detect_html=False))
    assert doc.text == "<p>kept as is</p>"


def test_html_record_timeout_reported_and_skipped(tmp_path: Path) -> None:
    slow = "<html><body>" + "".join(f"<div><p>Satz {i} mit <a href='/{i}'>Link</a>.</p></div>" for i in range(10000)) + "</body></html>"
    path = write_lines(tmp_path / "s.jsonl", [json.dumps({"text": slow}), json.dumps({"text": "schnell"})])
    docs, errors = read_all(path, tmp_path, RecordFields(timeout=0.05))
    assert [d.text for d in docs] == ["schnell"]
    assert errors == ["s.jsonl:1: extraction timed out after 0.05s"]


@pytest.mark.parametrize("name", ["t.jsonl.gz", "t.jsonl.zst"])
def test_truncated_compressed_file_is_a_read_error(tmp_path: Path, name: str) -> None:
    full = write_lines(tmp_path / name, [json.dumps({"text": f"Zeile {i} " * 20}) for i in range(2000)])
    full.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    codec = {"gz": "gzip", "zst": "zst"}[name.rsplit(".", 1)[1]]
    with pytest.raises(ReadError, match=rf"^{full}: truncated {codec} stream$"):
        read_all(full, tmp_path)


@pytest.mark.parametrize("name", ["c.jsonl.gz", "c.jsonl.zst"])
def test_corrupt_compressed_file_is_a_read_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not compressed at all\n" * 10)
    codec = {"gz": "gzip", "zst": "zst"}[name.rsplit(".", 1)[1]]
    with pytest.raises(ReadError, match=rf"^{path}: corrupt {codec} stream: "):
        read_all(path, tmp_path)


def test_concatenated_zst_frames_are_all_read(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl.zst"
    compressor = zstandard.ZstdCompressor()
    path.write_bytes(b"".join(compressor.compress(json.dumps({"text": f"t{i}"}).encode() + b"\n") for i in range(3)))
    docs, _ = read_all(path, tmp_path)
    assert [d.text for d in docs] == ["t0", "t1", "t2"]


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"nope\.jsonl\.gz: cannot open: No such file or directory$"):
        open_binary(tmp_path / "nope.jsonl.gz")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.jsonl.gz", ("a.jsonl", "gz")), ("b.HTML.ZST", ("b.HTML", "zst")), ("c.txt", ("c.txt", None)), (".gz", (".gz", None))],
)
def test_strip_compression_suffix(name: str, expected: tuple[str, str | None]) -> None:
    assert strip_compression_suffix(name) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".jsonl", ".jsonl.gz", ".jsonl.zst"]))
def test_arbitrary_bytes_only_yield_documents_messages_or_read_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    errors: list[str] = []
    try:
        docs = list(read_jsonl(path, source_for(path, tmp_path, "jsonl"), errors.append, RecordFields(detect_html=False)))
    except ReadError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    assert all(isinstance(d.text, str) for d in docs)
    assert all(e.startswith(f"fuzz{suffix}:") and "\n" not in e for e in errors)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=1.0), codec=st.sampled_from(["gz", "zst"]))
def test_compressed_file_cut_anywhere_is_complete_or_a_read_error(tmp_path: Path, cut: float, codec: str) -> None:
    full = write_lines(tmp_path / f"cut.jsonl.{codec}", [json.dumps({"text": f"Zeile {i}"}) for i in range(300)])
    data = full.read_bytes()
    keep = int(len(data) * cut)
    full.write_bytes(data[:keep])
    try:
        docs, errors = read_all(full, tmp_path)
    except ReadError as exc:
        assert keep < len(data) and "stream" in str(exc)
        return
    assert (keep, len(docs), errors) in ((len(data), 300, []), (0, 0, []))
