from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pytest
from io_helpers import source_for

from cleaner.document import document_id
from cleaner.engines.local import map_tasks
from cleaner.readers import html
from cleaner.readers.errors import ReadError
from cleaner.readers.html import ExtractionTimeout, extract_html, looks_like_html, read_html

PAGE = """<!DOCTYPE html>
<html lang="de"><head>
<meta charset="utf-8">
<title>Stadtrat beschließt neuen Radweg | Lokalblatt</title>
<meta name="author" content="Anna Schmidt">
<meta property="og:site_name" content="Lokalblatt">
<meta property="article:published_time" content="2023-05-04T08:00:00+02:00">
<link rel="canonical" href="https://www.lokalblatt.example/stadt/radweg-beschlossen">
</head><body>
<header><nav><ul><li><a href="/">Startseite</a></li><li><a href="/stadt">Stadt</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/abo">Abo</a></li></ul></nav></header>
<div class="cookie-banner">Wir verwenden Cookies. <button>Akzeptieren</button></div>
<main><article>
<h1>Stadtrat beschließt neuen Radweg</h1>
<p>Der Stadtrat hat am Dienstagabend mit großer Mehrheit den Bau eines neuen Radwegs entlang der
Hauptstraße beschlossen. Die Arbeiten sollen im kommenden Frühjahr beginnen und etwa acht Monate dauern.</p>
<h2>Kosten und Zeitplan</h2>
<p>Die Kosten werden auf rund 1,2 Millionen Euro geschätzt, von denen das Land die Hälfte übernimmt.
Während der Bauzeit wird der Verkehr einspurig an der Baustelle vorbeigeführt.</p>
<table><tr><th>Abschnitt</th><th>Beginn</th></tr><tr><td>Nord</td><td>März</td></tr>
<tr><td>Süd</td><td>Juni</td></tr></table>
<p>Anwohnerinnen und Anwohner können sich am 12. Juni im Rathaus über die Pläne informieren.</p>
</article>
<section class="comments" id="comments"><h3>Kommentare</h3>
<div class="comment"><p>Endlich! Darauf warten wir seit Jahren, aber das Geld wäre woanders besser angelegt.</p></div>
</section></main>
<aside><h3>Meistgelesen</h3><ul><li><a href="/a">Unfall auf der B27</a></li><li><a href="/b">Neues Café</a></li></ul></aside>
<footer><a href="/impressum">Impressum</a> | <a href="/datenschutz">Datenschutz</a></footer>
</body></html>
"""


def slow_page(divs: int = 10000) -> str:
    body = "".join(
        f'<div class="c{i}"><p>Satz Nummer {i} mit etwas Text und einem <a href="/l{i}">Link</a>.</p></div>'
        for i in range(divs)
    )
    return f"<html><body>{body}</body></html>"


def test_main_text_without_boilerplate_or_comments() -> None:
    text, _ = extract_html(PAGE, None, timeout=30)
    lines = text.split("\n")
    assert lines[0] == "Stadtrat beschließt neuen Radweg"
    assert "Kosten und Zeitplan" in lines  # headings kept as plain lines
    assert any(line.startswith("Der Stadtrat hat am Dienstagabend") for line in lines)
    assert "Abschnitt | Beginn" in lines and "Nord | März" in lines  # table rows, no markdown
    assert not any(set(line) <= set("|-: ") for line in lines)  # no |---| separator row
    for boilerplate in ("Startseite", "Cookies", "Endlich!", "Impressum", "Meistgelesen"):
        assert boilerplate not in text
    # one paragraph per line: the wrapped source paragraph is one line
    assert any("beschlossen. Die Arbeiten sollen" in line for line in lines)


def test_metadata_from_trafilatura() -> None:
    _, meta = extract_html(PAGE, None, timeout=30)
    assert meta["title"] == "Stadtrat beschließt neuen Radweg"
    assert meta["author"] == "Anna Schmidt"
    assert meta["sitename"] == "Lokalblatt"
    assert meta["date"] == "2023-05-04"
    assert meta["url"] == "https://www.lokalblatt.example/stadt/radweg-beschlossen"
    assert meta["hostname"] == "lokalblatt.example"  # trafilatura drops "www."


def test_read_html_file_builds_document(tmp_path: Path) -> None:
    path = tmp_path / "site" / "radweg.html.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(PAGE.encode("utf-8"), mtime=0))
    base = source_for(path, tmp_path, "html")
    (doc,) = list(read_html(path, base, timeout=30))
    assert doc.source.path == "site/radweg.html.gz"
    assert doc.source.url == "https://www.lokalblatt.example/stadt/radweg-beschlossen"
    assert doc.source.encoding == "utf-8"
    assert doc.source.format == "html"
    assert doc.id == document_id(doc.source)
    assert doc.meta["author"] == "Anna Schmidt"
    assert doc.text.startswith("Stadtrat beschließt neuen Radweg\n")


def test_latin1_page_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "alt.html"
    path.write_bytes(PAGE.replace('charset="utf-8"', 'charset="iso-8859-1"').encode("latin-1"))
    (doc,) = list(read_html(path, source_for(path, tmp_path, "html"), timeout=30))
    assert "Frühjahr" in doc.text
    assert doc.source.encoding not in ("utf-8", "utf-8-replace")


def test_slow_page_times_out_in_main_thread(tmp_path: Path) -> None:
    path = tmp_path / "slow.html"
    path.write_text(slow_page(), encoding="utf-8")
    with pytest.raises(ReadError, match=r"^slow\.html: extraction timed out after 0\.05s$"):
        list(read_html(path, source_for(path, tmp_path, "html"), timeout=0.05))
    # the alarm is cleared afterwards: a normal page still extracts
    text, _ = extract_html(PAGE, None, timeout=30)
    assert text


def test_slow_page_times_out_outside_main_thread() -> None:
    outcome: list[BaseException | str] = []

    def work() -> None:
        try:
            extract_html(slow_page(), None, timeout=0.05)
            outcome.append("finished")
        except ExtractionTimeout as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], ExtractionTimeout)


def test_page_without_text_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>Leer</title></head><body><img src='a.png'></body></html>", encoding="utf-8")
    with pytest.raises(ReadError, match=r"^empty\.html: extraction failed: ValueError: no main text found$"):
        list(read_html(path, source_for(path, tmp_path, "html"), timeout=30))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<html><body>x</body></html>", True),
        ("  <p>Absatz</p>", True),
        ("<!DOCTYPE html><HTML>", True),
        ("Text mit <p> mitten drin", False),
        ("<3 love", False),
        ("<div>no page tags</div>", False),
    ],
)
def test_looks_like_html(value: str, expected: bool) -> None:
    assert looks_like_html(value) is expected


def _outcome_in_worker(timeout: float) -> str:
    try:
        text, _ = extract_html(slow_page(3000), None, timeout=timeout)
        return "finished" if text else "empty"
    except ExtractionTimeout:
        return "timed out"


def _extracts_page(timeout: float) -> bool:
    text, _ = extract_html(PAGE, None, timeout=timeout)
    return text.startswith("Stadtrat beschließt neuen Radweg")


def test_timeout_works_inside_multiprocessing_pool_workers() -> None:
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_outcome_in_worker, [0.05, 0.05]) == ["timed out", "timed out"]
        assert pool.map(_extracts_page, [30.0]) == [True]


def _extract_in_worker(_: int) -> int | None:
    """Extract a page in a pool worker; the pid of the worker's extractor child."""
    assert _extracts_page(30.0)
    return html._EXTRACTOR.pid


def test_local_workers_reap_their_extractor_child_when_the_run_ends() -> None:
    """A worker's extractor child is stopped and reaped by the worker as it exits, so its CPU is
    counted with the run's and no process outlives the run (terminated workers orphaned it)."""
    children: list[int | None] = []
    map_tasks(lambda: _extract_in_worker, range(4), 2, children.append)
    assert children and None not in children
    for child in set(children):
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)  # type: ignore[arg-type]


def test_time_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="extraction time limit must be positive, got 0"):
        extract_html(PAGE, None, timeout=0)


def test_page_date_depends_on_the_run_date_not_on_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """htmldate drops dates after its latest plausible date; that date is the run's own
    (SOURCE_DATE_EPOCH), so a reproducible run gets the same date on any day."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14: after the page's date
    assert extract_html(PAGE, None, 30)[1]["date"] == "2023-05-04"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1672531200")  # 2023-01-01: the page's date lies ahead
    assert extract_html(PAGE, None, 30)[1].get("date", "") <= "2023-01-01"


def test_fast_extraction_keeps_the_text_and_metadata_of_a_plain_page() -> None:
    slow, fast = extract_html(PAGE, None, 30), extract_html(PAGE, None, 30, fast=True)
    assert fast == slow
    assert "Stadtrat hat am Dienstagabend" in fast[0]
