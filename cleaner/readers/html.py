"""HTML pages to main text with trafilatura, one page per document, under a time limit.

Extraction settings, chosen for a corpus cleaner rather than for reading:
- ``include_comments=False``: reader comments are not the article, and they are the most
  common source of spam and duplicated text.
- ``deduplicate=False``: trafilatura's own dedup is an LRU cache across calls, so its result
  would depend on which pages a worker process happened to see before; dedup is done
  corpus-wide and deterministically by the pipeline instead.
- ``include_tables=True``: tables are often content (prices, results, schedules). Headings
  are always kept by trafilatura; ``include_formatting=False`` keeps them as plain lines.
- ``with_metadata=True``: title, url, date, author, sitename and hostname go into
  ``Document.meta`` and the URL into ``Source.url``.
- Output is plain text with one paragraph per line. trafilatura renders tables as markdown
  even without formatting, so table rows are turned into ``cell | cell`` and the
  ``|---|`` separator row is dropped; list items keep their ``- `` marker.

Time limit: a pathological page (huge, deeply nested, regex-hostile) must not hang a run.
Extraction runs in a child process of the calling process, started on first use and reused
for every page; when a page overruns, the child is killed and a fresh one starts for the next
page. Killing a process is the only way to stop lxml mid-parse that cannot leave a lock or
half-built state behind (an alarm signal raising inside the library can, and the next page
then deadlocks). The child is forked directly (os.fork), which also works inside daemonic
multiprocessing workers, where multiprocessing refuses to start children.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from dataclasses import replace
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any

from cleaner.document import Document, Source, document_id
from cleaner.readers.compression import open_binary
from cleaner.readers.encoding import decode_bytes
from cleaner.readers.errors import ReadError, one_line
from cleaner.run_clock import run_moment

META_KEYS = ("title", "url", "date", "author", "sitename", "hostname")
DEFAULT_TIMEOUT = 30.0

# What trafilatura keeps of a page (see above), whatever the page; the benchmarks time
# trafilatura alone with these too, so the yardstick cannot drift from the reader.
EXTRACTION_OPTIONS: dict[str, bool] = {
    "include_comments": False,
    "deduplicate": False,
    "include_tables": True,
    "include_formatting": False,
    "include_links": False,
    "include_images": False,
}

_TABLE_SEPARATOR = re.compile(r"\|(?:\s*:?-+:?\s*\|)+")


class ExtractionTimeout(Exception):
    """The time limit passed; callers turn it into a `ReadError` naming the file."""


def looks_like_html(value: str) -> bool:
    """True for a string that is an HTML page or fragment rather than text mentioning a tag."""
    head = value.lstrip()[:4096].lower()
    return head.startswith("<") and any(tag in head for tag in ("<html", "<body", "<p"))


class _Extractor:
    """A forked child that extracts pages sent over a pipe; replaced whenever one overruns."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.owner: int | None = None  # the process that forked the child
        self.connection: Connection | None = None
        self.stops_at_exit: int | None = None  # the process whose exit stops the child

    def extract(self, html: str, url: str | None, timeout: float, fast: bool) -> tuple[str | None, dict[str, Any]]:
        if self.pid is None or self.owner != os.getpid():
            self._start()
        assert self.connection is not None
        self.connection.send((html, url, fast, _latest_date()))
        if not self.connection.poll(timeout):
            self.stop()
            raise ExtractionTimeout
        try:
            status, value = self.connection.recv()
        except EOFError:  # the child died (out of memory, a crash in C code)
            self.stop()
            raise RuntimeError("extraction process died") from None
        if status == "error":
            raise RuntimeError(value)
        return value  # type: ignore[no-any-return]

    def _start(self) -> None:
        import trafilatura  # noqa: F401 - loaded once here, so every forked child has it already

        parent, child = Pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, measured through the parent
            parent.close()
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
            _serve(child)
            os._exit(0)
        child.close()
        if self.stops_at_exit != os.getpid():
            # Stop the child when this process exits. A multiprocessing worker leaves through
            # os._exit, which skips atexit, but runs multiprocessing's finalizers (as does the
            # main process at exit); its child is then reaped by it, not orphaned.
            Finalize(None, self.stop, exitpriority=0)
            self.stops_at_exit = os.getpid()
        self.pid, self.owner, self.connection = pid, os.getpid(), parent

    def stop(self) -> None:
        if self.pid is not None and self.owner == os.getpid():
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if self.connection is not None:
            self.connection.close()
        self.pid = self.owner = self.connection = None


def _serve(connection: Connection) -> None:
    while True:
        try:
            html, url, fast, latest_date = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", _extract_plain(html, url, fast, latest_date))
        except Exception as exc:  # trafilatura/lxml fail in many ways on broken pages
            reply = ("error", one_line(exc))
        connection.send(reply)


_EXTRACTOR = _Extractor()


def _extract_plain(html: str, url: str | None, fast: bool, latest_date: str) -> tuple[str | None, dict[str, Any]]:
    result = _extract(html, url, fast, latest_date)
    if result is None or not result.text:
        return None, {}
    return _plain_text(result.text), {key: getattr(result, key) for key in META_KEYS if getattr(result, key, None)}


def _extract(html: str, url: str | None, fast: bool, latest_date: str) -> Any:
    import trafilatura

    return trafilatura.bare_extraction(
        html,
        url=url,
        fast=fast,
        date_extraction_params={"original_date": True, "extensive_search": not fast, "max_date": latest_date},
        with_metadata=True,
        **EXTRACTION_OPTIONS,
    )


def _latest_date() -> str:
    """The latest date a page may carry. htmldate's default is today, so the same page would get
    another date on another day; the run's own date (SOURCE_DATE_EPOCH when set, as for the
    records' `added`) keeps a reproducible run reproducible. Read by the caller, not the
    long-lived extraction child, whose environment is the one it was forked with."""
    return run_moment().strftime("%Y-%m-%d")


def _plain_text(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if _TABLE_SEPARATOR.fullmatch(stripped):
            continue
        if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            line = stripped[1:-1].strip()
        lines.append(line)
    return "\n".join(lines)



def extract_html(html: str, url: str | None, timeout: float, fast: bool = False) -> tuple[str, dict[str, Any]]:
    """Main text (one paragraph per line) and metadata of one page.

    `fast` (`--html-fast`) trades a little for 10-25% more speed (up to 1.75x on pages without
    date metadata): trafilatura skips its fallback extractors and htmldate its search of the
    whole page text for a date, so pages dated only in their body text get no date.

    Raises `ExtractionTimeout` when extraction takes longer than ``timeout`` seconds and
    `ValueError` when trafilatura finds no main text. Metadata holds only the keys in
    `META_KEYS` that have a value.
    """
    if not timeout > 0:
        raise ValueError(f"extraction time limit must be positive, got {timeout}")
    text, meta = _EXTRACTOR.extract(html, url, timeout, fast)
    if text is None:
        raise ValueError("no main text found")
    if url and "url" not in meta:
        meta["url"] = url
    return text, meta


def read_html(path: Path, source_base: Source, *, timeout: float = DEFAULT_TIMEOUT,
              fast: bool = False) -> Iterator[Document]:
    """Yield the one document of an HTML file (``.html``, ``.htm``, optionally ``.gz``/``.zst``).

    ``source_base`` is the lead's Source for the file (path, root, sha256, size); this reader
    fills in format, encoding and url. A page that fails or times out raises `ReadError`.
    """
    with open_binary(path) as stream:
        data = stream.read()
    html, encoding = decode_bytes(data)
    try:
        text, meta = extract_html(html, None, timeout, fast)
    except ExtractionTimeout:
        raise ReadError(f"{source_base.path}: extraction timed out after {timeout:g}s") from None
    except Exception as exc:  # trafilatura/lxml fail in many ways on broken pages
        raise ReadError(f"{source_base.path}: extraction failed: {one_line(exc)}") from exc
    source = replace(source_base, format="html", encoding=encoding, url=meta.get("url"))
    yield Document(document_id(source), text, source, meta)
