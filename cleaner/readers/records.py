"""Turning one structured record (a JSONL line, a Parquet row) into a Document.

JSONL and Parquet differ only in how records are streamed; which field is the text, which is
an id or a URL, and when a value is HTML to extract is the same for both and lives here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cleaner.document import Document, Source, document_id
from cleaner.readers.errors import one_line
from cleaner.readers.html import DEFAULT_TIMEOUT, ExtractionTimeout, extract_html, looks_like_html

OnError = Callable[[str], None]
REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RecordFields:
    """Where the document is inside a record.

    ``url_field`` is used only when the record has it. With ``html_field`` set, that field
    holds HTML and is always extracted; otherwise, with ``detect_html``, a text value that
    looks like an HTML page (see `looks_like_html`) is extracted too.
    """

    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = "url"
    html_field: str | None = None
    detect_html: bool = True
    timeout: float = DEFAULT_TIMEOUT
    html_fast: bool = False  # see readers.html.extract_html


@dataclass(frozen=True, slots=True)
class RowGroups:
    """Part of a Parquet file: row groups `first` to `stop` (exclusive), whose first row is row
    `first_row` of the file, so record indexes stay those of the whole file."""

    first: int
    stop: int
    first_row: int

    @property
    def is_first(self) -> bool:
        return self.first == 0


def record_to_document(
    record: Any, index: int, where: str, source_base: Source, fields: RecordFields
) -> Document:
    """Build the document of one record; raises ValueError with a one-line cause when unusable.

    ``where`` names the record for messages (``"a.jsonl:12"``). Every field not used as text,
    id or URL is carried into ``meta["fields"]`` unchanged (a URL field that is empty or not a
    string stays there too).
    """
    if not isinstance(record, dict):
        raise ValueError(f"{where}: record is a JSON {type(record).__name__}, not an object")
    record, surrogates = replace_lone_surrogates(record)
    content_field = fields.html_field or fields.text_field
    if content_field not in record:
        raise ValueError(f"{where}: missing field {content_field!r}")
    value = record[content_field]
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise ValueError(f"{where}: field {content_field!r} is {kind}, not a string")
    url = record.get(fields.url_field) if fields.url_field else None
    url = url if isinstance(url, str) and url else None
    used = {content_field, fields.id_field} | ({fields.url_field} if url else set())
    meta: dict[str, Any] = {}
    if fields.id_field is not None and fields.id_field in record:
        meta["record_id"] = record[fields.id_field]
    text = value
    if fields.html_field is not None or (fields.detect_html and looks_like_html(value)):
        try:
            text, page_meta = extract_html(value, url, fields.timeout, fields.html_fast)
        except ExtractionTimeout:
            raise ValueError(f"{where}: extraction timed out after {fields.timeout:g}s") from None
        except Exception as exc:  # trafilatura/lxml fail in many ways on broken pages
            raise ValueError(f"{where}: HTML extraction failed: {one_line(exc)}") from exc
        meta.update(page_meta)
        meta["html_field"] = content_field
        url = url or page_meta.get("url")
    meta["fields"] = {key: val for key, val in record.items() if key not in used}
    if surrogates:
        meta["replaced_surrogates"] = surrogates
    source = replace(source_base, record=index, url=url)
    return Document(document_id(source), text, source, meta)


def replace_lone_surrogates(value: Any) -> tuple[Any, int]:
    """Replace unpaired UTF-16 surrogates in every string of a JSON value with U+FFFD.

    JSON may escape a lone surrogate (``"\\ud800"``, typically half of an emoji cut by a
    truncating scraper) and ``json.loads`` returns it as is, but such a string cannot be
    written as UTF-8, so one bad character would otherwise stop the whole run at write time.
    The replacement is counted in ``meta["replaced_surrogates"]``, so the text is marked as
    not being exactly the JSON string. Returns the cleaned value and the number replaced.
    """
    if isinstance(value, str):
        cleaned, count = _LONE_SURROGATE.subn(REPLACEMENT, value)
        return cleaned, count
    if isinstance(value, list):
        total = 0
        items = []
        for item in value:
            item, count = replace_lone_surrogates(item)
            items.append(item)
            total += count
        return items, total
    if isinstance(value, dict):
        total = 0
        result = {}
        for key, item in value.items():
            key, key_count = replace_lone_surrogates(key)
            item, count = replace_lone_surrogates(item)
            result[key] = item
            total += key_count + count
        return result, total
    return value, 0
