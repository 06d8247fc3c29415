"""A mixed directory of every input format, cleaned by the `cleaner` command in one run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from conftest import SEEDS, run_cli
from test_readers_html import PAGE, slow_page

ARTICLE = ("Die Stadtwerke erhöhen zum ersten Januar die Preise für Fernwärme um zwölf Prozent, "
           "wie ein Sprecher am Montag mitteilte.")


def build_corpus(root: Path) -> None:
    root.mkdir()
    (root / "seite.html").write_text(PAGE, encoding="utf-8")
    (root / "langsam.html").write_text(slow_page(20000), encoding="utf-8")
    (root / "latin1.txt").write_bytes(f"Größere Änderungen: {ARTICLE}\nAnzeige\n".encode("latin-1"))
    (root / "binär.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    lines = [
        json.dumps({"text": f"{ARTICLE}\nLesen Sie auch\n", "url": "https://a.example/1", "rubrik": "Wirtschaft"}),
        "{not json",
        json.dumps({"body": "no text field"}),
        json.dumps({"text": PAGE, "url": "https://www.lokalblatt.example/stadt/radweg-beschlossen"}),
    ]
    (root / "dump.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    whole = zstandard.ZstdCompressor().compress(("\n".join(lines[:1] * 50) + "\n").encode())
    (root / "kaputt.jsonl.zst").write_bytes(whole[: len(whole) // 2])
    table = pa.table({"content": [ARTICLE + "\nAnzeige\n", "Zweiter Artikel über das Wetter in Hamburg."],
                      "doc_id": ["p-1", "p-2"], "score": [0.5, 0.9]})
    pq.write_table(table, root / "tabelle.parquet")


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mixed")
    build_corpus(base / "corpus")
    out = base / "out"
    code = run_cli("clean", base / "corpus", "-o", out, "--glob", "*", "--format", "jsonl,parquet,txt",
                   "--text-field", "text", "--html-timeout", "1", "--report", "--workers", "2", "--no-dedup")
    assert code == 0
    return out


def records(out: Path, stem: str = "documents") -> list[dict]:
    return [json.loads(line) for line in (out / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines()]


def test_every_readable_document_is_written(mixed_run: Path) -> None:
    by_path = {}
    for record in records(mixed_run):
        source = record["metadata"]["source"]
        by_path.setdefault(source["path"], []).append(record)
    assert sorted(by_path) == ["dump.jsonl.gz", "latin1.txt", "seite.html"]
    assert [r["metadata"]["source"]["record"] for r in by_path["dump.jsonl.gz"]] == [0, 3]
    first = by_path["dump.jsonl.gz"][0]
    assert first["text"] == ARTICLE + "\n"
    assert first["metadata"]["input"]["fields"] == {"rubrik": "Wirtschaft"}
    assert first["metadata"]["source"]["url"] == "https://a.example/1"
    html_record = by_path["dump.jsonl.gz"][1]
    assert "Stadtrat hat am Dienstagabend" in html_record["text"] and "Startseite" not in html_record["text"]


def test_text_field_default_and_parquet_fields(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    build_corpus(corpus)
    out = tmp_path / "out"
    assert run_cli("clean", corpus / "tabelle.parquet", "-o", out, "--text-field", "content",
                   "--id-field", "doc_id", "--workers", "1") == 0
    rows = records(out)
    assert [r["text"] for r in rows] == [ARTICLE + "\n", "Zweiter Artikel über das Wetter in Hamburg."]
    assert rows[0]["metadata"]["input"] == {"record_id": "p-1", "fields": {"score": 0.5}}
    assert [s["rule"] for s in rows[0]["metadata"]["removed"]] == ["de.ad.marker"]


def test_html_page_metadata_and_boilerplate(mixed_run: Path) -> None:
    page = next(r for r in records(mixed_run) if r["metadata"]["source"]["path"] == "seite.html")
    assert page["metadata"]["input"]["author"] == "Anna Schmidt"
    assert page["metadata"]["source"]["format"] == "html"
    assert "Kosten und Zeitplan" in page["text"] and "Nord | März" in page["text"]
    assert "Endlich! Darauf warten wir" not in page["text"]  # comments excluded
    assert page["created"].startswith("2023-05-04")


def test_latin1_decoded_and_recorded(mixed_run: Path) -> None:
    doc = next(r for r in records(mixed_run) if r["metadata"]["source"]["path"] == "latin1.txt")
    assert doc["text"].startswith("Größere Änderungen")
    assert doc["metadata"]["source"]["encoding"] not in ("utf-8", "utf-8-replace")
    assert doc["metadata"]["removed"][0]["rule"] == "de.ad.marker"


def test_problems_reported_with_file_and_line(mixed_run: Path) -> None:
    stats = json.loads((mixed_run / "stats.json").read_text())
    messages = [e["message"] for e in stats["errors"]]
    assert any(m.startswith("dump.jsonl.gz:2:") for m in messages)
    assert any(m.startswith("dump.jsonl.gz:3:") and "missing field 'text'" in m for m in messages)
    assert any(m.startswith("kaputt.jsonl.zst: ") and "truncated" in m for m in messages)
    assert any(m.startswith("tabelle.parquet: ") and "no column 'text'" in m for m in messages)
    assert any("langsam.html" in m and "timed out" in m for m in messages)
    assert any("binär.txt" in m and "binary" in m for m in messages)
    assert all("\n" not in m for m in messages)


def test_parquet_output_matches_jsonl_and_loads_in_datasets(mixed_run: Path, tmp_path: Path) -> None:
    table = pq.read_table(mixed_run / "documents.parquet")
    assert table.column("id").to_pylist() == [r["id"] for r in records(mixed_run)]
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("parquet", data_files=str(mixed_run / "documents.parquet"), split="train",
                                   cache_dir=str(tmp_path / "hf"))
    assert loaded["text"] == [r["text"] for r in records(mixed_run)]


def test_text_mirror_has_one_file_per_record(mixed_run: Path) -> None:
    assert (mixed_run / "text" / "dump.jsonl.gz" / "00000000.txt").read_text() == ARTICLE + "\n"
    assert (mixed_run / "text" / "latin1.txt").exists()
    # the clean text of a page is plain text, and named so
    assert "Stadtrat hat am Dienstagabend" in (mixed_run / "text" / "seite.html.txt").read_text(encoding="utf-8")
    assert not (mixed_run / "text" / "seite.html").exists()


def test_default_discovery_takes_every_readable_format(tmp_path: Path) -> None:
    corpus = tmp_path / "crawl"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "seite.html").write_text(PAGE, encoding="utf-8")
    (corpus / "sub" / "alt.htm.gz").write_bytes(gzip.compress(PAGE.encode(), mtime=0))
    (corpus / "dump.jsonl.gz").write_bytes(gzip.compress(json.dumps({"text": ARTICLE}).encode() + b"\n", mtime=0))
    (corpus / "feed.ndjson").write_text(json.dumps({"text": ARTICLE}) + "\n", encoding="utf-8")
    pq.write_table(pa.table({"text": [ARTICLE]}), corpus / "tabelle.parquet")
    (corpus / "notiz.md").write_text(ARTICLE + "\n", encoding="utf-8")
    (corpus / "alt.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(ARTICLE.encode()))
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 not text")
    (corpus / "table.csv").write_text("a,b\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out, "--no-dedup", "--workers", "1") == 0
    paths = [r["metadata"]["source"]["path"] for r in records(out)]
    assert paths == ["alt.txt.zst", "dump.jsonl.gz", "feed.ndjson", "notiz.md", "seite.html", "sub/alt.htm.gz",
                     "tabelle.parquet"]
    assert run_cli("clean", corpus, "-o", out, "--glob", "*.html", "--workers", "1") == 0  # --glob narrows
    assert [r["metadata"]["source"]["path"] for r in records(out)] == ["seite.html"]


def test_finding_no_input_is_an_error_that_says_what_was_there(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "scans"
    (corpus / "old").mkdir(parents=True)
    for name in ("a.pdf", "old/b.PDF", "c.csv"):
        (corpus / name).write_bytes(b"%PDF")
    out = tmp_path / "out"
    assert run_cli("clean", corpus, "-o", out, "--strict") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"cleaner: error: no input files found under {corpus} ")
    assert "(found 3 files: 1 .PDF, 1 .csv, 1 .pdf); readable: .txt, .text, .md, .html, .htm, .jsonl" in error
    assert run_cli("clean", corpus, "-o", out, "--glob", "*.xml") == 2
    assert "(found 3 files: 1 .PDF, 1 .csv, 1 .pdf); --glob '*.xml' matches none" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert run_cli("clean", tmp_path / "empty", "-o", out) == 2
    assert "(found no files)" in capsys.readouterr().err
    assert not out.exists()


def test_report_numbers_come_from_stats(mixed_run: Path) -> None:
    html = (mixed_run / "report.html").read_text(encoding="utf-8")
    stats = json.loads((mixed_run / "stats.json").read_text())
    assert f'data-stat="documents_in" data-value="{stats["documents"]["in"]}"' in html or \
        f'data-value="{stats["documents"]["in"]}"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_compressed_sharded_output_and_on_error_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out, "--compress", "zst", "--shard-size", "2") == 0
    shards = sorted(p.name for p in out.glob("documents-*.jsonl.zst"))
    assert shards == ["documents-00000.jsonl.zst", "documents-00001.jsonl.zst", "documents-00002.jsonl.zst"]
    text = b"".join(zstandard.ZstdDecompressor().decompressobj().decompress(p.read_bytes())
                    for p in sorted(out.glob("documents-*.jsonl.zst")))
    assert len(text.decode().splitlines()) == 5
    before = sorted(p.name for p in out.iterdir())
    corpus = tmp_path / "corpus"
    build_corpus(corpus)
    capsys.readouterr()
    assert run_cli("clean", corpus, "-o", out, "--glob", "*", "--on-error", "fail", "--workers", "1",
                   "--html-timeout", "1") == 1
    assert "binär.txt: binary file" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before


def test_html_fast_reaches_the_extractor_and_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "seite.html").write_text(PAGE, encoding="utf-8")
    outputs = {}
    for name, extra in (("full", ()), ("fast", ("--html-fast",))):
        assert run_cli("clean", tmp_path / "in", "-o", tmp_path / name, "--glob", "*.html", "--quiet", *extra) == 0
        record = json.loads((tmp_path / name / "documents.jsonl").read_text(encoding="utf-8"))
        outputs[name] = record
    assert outputs["fast"]["text"] == outputs["full"]["text"]
    assert outputs["fast"]["metadata"]["pipeline"]["settings"]["read"]["html_fast"] is True
    assert outputs["full"]["metadata"]["pipeline"]["settings"]["read"]["html_fast"] is False
