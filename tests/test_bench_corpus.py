"""The pipeline benchmark's corpus generator: deterministic, the size asked for, what it claims inside."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from pipeline_corpus import ArticleWriter, generate, load_boilerplate, parse_size  # noqa: E402

SIZE = 300_000
POOL = 1500  # small paragraph pool: the generator's fixed start-up cost stays well under a second


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "corpus.json"}


@pytest.mark.parametrize("layout", ["txt", "jsonl", "html"])
def test_same_seed_same_bytes_and_size_reached(tmp_path: Path, layout: str) -> None:
    first = generate(layout, SIZE, tmp_path / "a", seed=3, pool=POOL)
    second = generate(layout, SIZE, tmp_path / "b", seed=3, pool=POOL)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert first["bytes"] == second["bytes"] >= SIZE
    assert sum(len(data) for data in _files(tmp_path / "a").values()) == first["bytes"]
    assert json.loads((tmp_path / "a" / "corpus.json").read_text())["documents"] == first["documents"]


def test_other_seed_other_text(tmp_path: Path) -> None:
    generate("jsonl", SIZE, tmp_path / "a", seed=1, pool=POOL)
    generate("jsonl", SIZE, tmp_path / "b", seed=2, pool=POOL)
    assert (tmp_path / "a" / "corpus.jsonl").read_bytes() != (tmp_path / "b" / "corpus.jsonl").read_bytes()


def test_articles_carry_fixture_boilerplate_duplicates_and_both_languages() -> None:
    writer = ArticleWriter(seed=5, pool=POOL)
    articles = [writer.next() for _ in range(800)]
    known = {line for runs in load_boilerplate().values() for run in runs for line in run.lines}
    boilerplate = [text for a in articles for kind, text in a.lines if kind == "boilerplate"]
    assert boilerplate and set(boilerplate) <= known
    assert {a.lang for a in articles} == {"de", "en"}
    by_id = {a.id: a for a in articles}
    copies = [a for a in articles if a.duplicate_of]
    assert 0.02 < len(copies) / len(articles) < 0.09
    assert all(a.text == by_id[a.duplicate_of].text for a in copies)
    sizes = sorted(len(a.text.encode()) for a in articles)
    assert 3000 <= sizes[len(sizes) // 2] <= 6000
    assert writer.summary()["near_duplicate_paragraphs"] > 0


def test_jsonl_records_are_documents_with_url(tmp_path: Path) -> None:
    generate("jsonl", SIZE, tmp_path / "c", seed=1, pool=POOL)
    records = [json.loads(line) for line in (tmp_path / "c" / "corpus.jsonl").read_text().splitlines()]
    assert all(set(r) == {"id", "url", "text"} and r["text"].endswith("\n") for r in records)
    assert len({r["id"] for r in records}) == len(records)


def test_html_pages_wrap_the_article_in_page_chrome(tmp_path: Path) -> None:
    generate("html", SIZE, tmp_path / "h", seed=1, pool=POOL)
    page = next((tmp_path / "h").rglob("*.html")).read_text()
    for part in ("<nav", "<article>", "<h1>", "<aside", "<footer", "</html>", 'name="author"',
                 'property="article:published_time" content="202', '"datePublished"'):
        assert part in page
    # The weight of a real news page: the article is a small part of the HTML.
    assert len(page) > 25_000 and page.count("<p>") >= 4


def test_sizes_parse_and_bad_ones_are_refused() -> None:
    assert parse_size("200MB") == 200_000_000 and parse_size("2GB") == 2_000_000_000 and parse_size("1.5k") == 1500
    with pytest.raises(Exception, match="size like"):
        parse_size("lots")


def test_output_directory_must_be_empty(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "stale.txt").write_text("old")
    with pytest.raises(FileExistsError, match="not empty"):
        generate("txt", SIZE, tmp_path / "x", pool=POOL)
