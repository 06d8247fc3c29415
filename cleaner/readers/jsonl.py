"""JSON Lines: one document per line, streamed, with bad lines reported and skipped.

A corpus dump with one broken line out of millions should not stop a run, nor should the
line vanish silently: each bad line goes to ``on_error`` as ``"<file>:<line>: <cause>"``.
The record index is the 0-based physical line number (blank and bad lines count), so a
record can always be found again in the file from its provenance.

JSON is UTF-8 by definition, but dumps nobody has read mix in Latin-1 or cp1252 lines; dropping
those would lose every record with an accented letter. A line that is not UTF-8 is decoded like
a text file (`decode_bytes`) and the encoding used is recorded in that record's source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from cleaner.document import Document, Source
from cleaner.readers.compression import open_binary
from cleaner.readers.encoding import decode_bytes
from cleaner.readers.records import OnError, RecordFields, record_to_document


def read_jsonl(
    path: Path,
    source_base: Source,
    on_error: OnError,
    fields: RecordFields = RecordFields(),
) -> Iterator[Document]:
    """Yield one document per JSON object line of ``path`` (plain, ``.gz`` or ``.zst``).

    ``source_base`` carries path, root, sha256 and size of the file; the reader sets format
    ``jsonl``, the record index and the URL. Blank lines are skipped without a message.
    A truncated or corrupt compressed file raises `ReadError` after yielding what was readable.
    """
    base = replace(source_base, format="jsonl")
    with open_binary(path) as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            where = f"{source_base.path}:{number}"
            record_base = base
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line, encoding = decode_bytes(raw)
                record_base = replace(base, encoding=encoding)
            try:
                record = json.loads(line.rstrip("\r\n"))  # a break inside an unterminated string is not the cause
            except json.JSONDecodeError as exc:
                on_error(f"{where}: invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}")
                continue
            try:
                yield record_to_document(record, number - 1, where, record_base, fields)
            except ValueError as exc:
                on_error(str(exc))
