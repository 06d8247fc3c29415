from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import zstandard
from io_dom import Node, parse
from io_report_run import CARD_KEYS, REJECTED, SOURCES, write_run

from cleaner.report import write_report


def source_text(article: Node) -> str:
    """The document text as shown, without the duplicate link arrows."""
    text_div = article.find("div", class_="text")
    for link in text_div.find_all(class_="dup-link"):
        link.children = []
    return text_div.text()


def test_summary_numbers_come_from_stats(tmp_path: Path) -> None:
    stats = write_run(tmp_path)
    dom = parse(write_report(tmp_path).read_text(encoding="utf-8"))
    shown = {node.attrs["data-stat"]: node for node in dom.find_all(data_stat=True) if "data-value" in node.attrs}
    assert set(shown) == set(CARD_KEYS) | {"errors"}
    for stat, (section, key) in CARD_KEYS.items():
        assert int(shown[stat].attrs["data-value"]) == stats[section][key]
        assert shown[stat].text() == f"{stats[section][key]:,}"
    assert int(shown["errors"].attrs["data-value"]) == len(stats["errors"])
    bars = {b.attrs["data-label"]: int(b.attrs["data-value"]) for b in dom.find("svg", id="chart-category").find_all("g")}
    assert bars == {cat: v["chars"] for cat, v in stats["removed_by_category"].items()}
    bars = {b.attrs["data-label"]: int(b.attrs["data-value"]) for b in dom.find("svg", id="chart-rule").find_all("g")}
    assert bars == {rule: v["chars"] for rule, v in stats["removed_by_rule"].items()}
    bars = {b.attrs["data-label"]: int(b.attrs["data-value"]) for b in dom.find("svg", id="chart-languages").find_all("g")}
    assert bars == stats["languages"]
    reasons = {r.attrs["data-reason"]: int(r.find("td", class_="n").attrs["data-value"]) for r in dom.find("table", id="rejections").find_all("tr", data_reason=True)}
    assert reasons == stats["documents"]["rejected_by_reason"]


def test_document_view_rebuilds_every_source(tmp_path: Path) -> None:
    write_run(tmp_path)
    dom = parse(write_report(tmp_path).read_text(encoding="utf-8"))
    articles = dom.find_all("article", class_="doc")
    expected = [(path, text) for path, text, _, _ in SOURCES] + [(REJECTED[0], REJECTED[1])]
    assert [(a.find("h3").text(), source_text(a)) for a in articles] == expected
    first = articles[0]
    removed = first.find_all("del", class_="rm")
    assert [(d.attrs["data-rule"], d.attrs["data-category"]) for d in removed] == [
        ("de.navigation.menu", "navigation"), ("common.share.buttons", "share")]
    assert removed[0].attrs["title"] == "de.navigation.menu (navigation), lines 1-3"
    assert "is-rejected" in articles[3].attrs["class"]


def test_duplicates_link_to_their_highlighted_original(tmp_path: Path) -> None:
    write_run(tmp_path)
    dom = parse(write_report(tmp_path).read_text(encoding="utf-8"))
    duplicate = dom.find("del", class_="dup")
    original_doc = dom.find_all("article", class_="doc")[0]
    assert duplicate.attrs["data-duplicate-of"] == original_doc.attrs["data-id"]
    assert "duplicate of lokal/haushalt.txt lines 6-6, Jaccard 1.00 (estimate 1.00)" in duplicate.attrs["title"]
    href = dom.find("a", class_="dup-link").attrs["href"]
    mark = dom.find("mark", class_="original")
    assert href == "#" + mark.attrs["id"] and mark.attrs["id"].startswith(f"doc-{original_doc.attrs['data-id']}-c")
    assert mark.text() == duplicate.text()


def test_page_is_self_contained(tmp_path: Path) -> None:
    write_run(tmp_path)
    html = write_report(tmp_path).read_text(encoding="utf-8")
    dom = parse(html)
    assert not dom.find_all("link") and not dom.find_all(src=True)
    assert not re.search(r"@import|url\(|https?://", "".join(n.text() for n in dom.find_all("style") + dom.find_all("script")))
    assert all(not a.attrs["href"].startswith("http") for a in dom.find_all("a", href=True) if "url" not in a.attrs.get("class", ""))


def test_sampling_is_said_and_compressed_shards_are_read(tmp_path: Path) -> None:
    write_run(tmp_path)
    lines = (tmp_path / "documents.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "documents.jsonl").unlink()
    (tmp_path / "documents-00000.jsonl.gz").write_bytes(gzip.compress(b"".join(lines[:2]), mtime=0))
    (tmp_path / "documents-00001.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines[2]))
    dom = parse(write_report(tmp_path, sample=2).read_text(encoding="utf-8"))
    assert [a.find("h3").text() for a in dom.find_all("article", class_="doc")] == ["lokal/haushalt.txt", "lokal/kommentar.txt", "lokal/kurz.txt"]
    note = dom.find("section", id="documents").find("p", class_="hint").text()
    assert note.startswith("Showing the first 2 of 3 output documents (a deterministic sample: the first 2 in output order)")


def test_missing_sections_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "stats.json").write_text(json.dumps({"documents": {"in": 0, "out": 0, "rejected": 0}}))
    dom = parse(write_report(tmp_path).read_text(encoding="utf-8"))
    assert [n.attrs["data-stat"] for n in dom.find_all(data_stat=True)] == ["documents_in", "documents_out", "documents_rejected"]
    assert "The run wrote no documents." in dom.find("section", id="documents").text()
    assert "Nothing to show." in dom.find("section", id="removals").text()


def test_same_output_same_report_and_escaping(tmp_path: Path) -> None:
    write_run(tmp_path)
    record = json.loads((tmp_path / "documents.jsonl").read_text(encoding="utf-8").splitlines()[0])
    record["metadata"]["source"]["path"] = "</script><b>evil</b>.txt"
    (tmp_path / "documents.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    first = write_report(tmp_path).read_bytes()
    assert write_report(tmp_path).read_bytes() == first
    assert b"<b>evil</b>" not in first and b"&lt;/script&gt;&lt;b&gt;evil&lt;/b&gt;.txt" in first


def test_missing_stats_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"stats\.json: missing; the report is written from a finished run's output"):
        write_report(tmp_path)
