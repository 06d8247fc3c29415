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
In the main thread, which is where multiprocessing pool workers run their tasks, the limit
is a ``SIGALRM`` interval timer whose handler raises an exception derived from
``BaseException`` (so trafilatura's ``except Exception`` blocks cannot swallow it); a flag
set by the handler is checked afterwards as a second line of defence. Outside the main thread
signals are unavailable, so the extraction runs in a helper daemon thread and the caller stops
waiting when the limit passes (the abandoned thread finishes in the background, using CPU
until it does). Neither needs child processes, which daemonic pool workers are not allowed to
start. The alarm timer is process-wide: callers must not use ITIMER_REAL/SIGALRM themselves
around extraction (the previous handler is restored afterwards).
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import trafilatura

from cleaner.document import Document, Source, document_id
from cleaner.readers.compression import open_binary
from cleaner.readers.encoding import decode_bytes
from cleaner.readers.errors import ReadError, one_line

META_KEYS = ("title", "url", "date", "author", "sitename", "hostname")
DEFAULT_TIMEOUT = 30.0

_TABLE_SEPARATOR = re.compile(r"\|(?:\s*:?-+:?\s*\|)+")
_T = TypeVar("_T")


class _Timeout(BaseException):
    """Raised by the alarm handler; a BaseException so library code cannot catch it."""


class ExtractionTimeout(Exception):
    """The time limit passed; callers turn it into a `ReadError` naming the file."""


def extract_html(html: str, url: str | None, timeout: float) -> tuple[str, dict[str, Any]]:
    """Main text (one paragraph per line) and metadata of one page.

    Raises `ExtractionTimeout` when extraction takes longer than ``timeout`` seconds and
    `ValueError` when trafilatura finds no main text. Metadata holds only the keys in
    `META_KEYS` that have a value.
    """
    result = run_with_timeout(lambda: _extract(html, url), timeout)
    if result is None or not result.text:
        raise ValueError("no main text found")
    meta = {key: getattr(result, key) for key in META_KEYS if getattr(result, key, None)}
    if url and "url" not in meta:
        meta["url"] = url
    return _plain_text(result.text), meta


def read_html(path: Path, source_base: Source, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Document]:
    """Yield the one document of an HTML file (``.html``, ``.htm``, optionally ``.gz``/``.zst``).

    ``source_base`` is the lead's Source for the file (path, root, sha256, size); this reader
    fills in format, encoding and url. A page that fails or times out raises `ReadError`.
    """
    with open_binary(path) as stream:
        data = stream.read()
    html, encoding = decode_bytes(data)
    try:
        text, meta = extract_html(html, None, timeout)
    except ExtractionTimeout:
        raise ReadError(f"{source_base.path}: extraction timed out after {timeout:g}s") from None
    except Exception as exc:  # trafilatura/lxml fail in many ways on broken pages
        raise ReadError(f"{source_base.path}: extraction failed: {one_line(exc)}") from exc
    source = replace(source_base, format="html", encoding=encoding, url=meta.get("url"))
    yield Document(document_id(source), text, source, meta)


def looks_like_html(value: str) -> bool:
    """True for a string that is an HTML page or fragment rather than text mentioning a tag."""
    head = value.lstrip()[:4096].lower()
    return head.startswith("<") and any(tag in head for tag in ("<html", "<body", "<p"))


def run_with_timeout(work: Callable[[], _T], timeout: float) -> _T:
    """Run ``work()`` and return its result, or raise `ExtractionTimeout` after ``timeout`` s."""
    if not timeout > 0:
        raise ValueError(f"extraction time limit must be positive, got {timeout}")
    if threading.current_thread() is threading.main_thread():
        return _run_with_alarm(work, timeout)
    return _run_in_thread(work, timeout)


def _run_with_alarm(work: Callable[[], _T], timeout: float) -> _T:
    fired = False

    def on_alarm(signum: int, frame: object) -> None:
        nonlocal fired
        fired = True
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        # The inner finally disarms the timer inside the outer try, so an alarm that lands
        # while disarming is still caught here and never escapes as a bare _Timeout.
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            result = work()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        raise ExtractionTimeout from None
    finally:
        signal.signal(signal.SIGALRM, previous)
    if fired:  # the library caught our exception and carried on
        raise ExtractionTimeout
    return result


def _run_in_thread(work: Callable[[], _T], timeout: float) -> _T:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="html-extraction", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ExtractionTimeout
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _extract(html: str, url: str | None) -> Any:
    return trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        deduplicate=False,
        include_tables=True,
        include_formatting=False,
        include_links=False,
        include_images=False,
        with_metadata=True,
    )


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

