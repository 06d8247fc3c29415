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

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from cleaner.document import Document, Source
from cleaner.readers.compression import open_binary, open_raw
from cleaner.readers.encoding import decode_bytes
from cleaner.readers.records import OnError, RecordFields, record_to_document
from cleaner.remote import RemotePath


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Part of an uncompressed JSONL file: whole lines from byte `start` to `end`, the first of
    which is line `first_line` (1-based), so record indexes stay those of the whole file."""

    start: int
    end: int
    first_line: int


def split_lines(path: Path | RemotePath, part_bytes: int, chunk_bytes: int = 1 << 23) -> tuple[str, int, list[ByteRange]]:
    """The file's sha256 and size, and line-aligned ranges of about `part_bytes`, in one read."""
    digest = hashlib.sha256()
    ranges: list[ByteRange] = []
    start, line, offset = 0, 1, 0
    lines_before = 0  # newlines seen before the current chunk
    with open_raw(path) as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
            position = 0
            while offset + len(chunk) - start > part_bytes:
                cut = chunk.find(b"\n", max(position, start + part_bytes - offset))
                if cut < 0:
                    break
                end = offset + cut + 1
                lines = lines_before + chunk.count(b"\n", 0, cut + 1)
                ranges.append(ByteRange(start, end, line))
                start, line, position = end, lines + 1, cut + 1
            lines_before += chunk.count(b"\n")
            offset += len(chunk)
    if offset > start or not ranges:
        ranges.append(ByteRange(start, offset, line))
    return digest.hexdigest(), offset, ranges


def read_jsonl(
    path: Path | RemotePath,
    source_base: Source,
    on_error: OnError,
    fields: RecordFields = RecordFields(),
    byte_range: ByteRange | None = None,
) -> Iterator[Document]:
    """Yield one document per JSON object line of ``path`` (plain, ``.gz`` or ``.zst``).

    ``source_base`` carries path, root, sha256 and size of the file; the reader sets format
    ``jsonl``, the record index and the URL. Blank lines are skipped without a message.
    A truncated or corrupt compressed file raises `ReadError` after yielding what was readable.
    With ``byte_range`` only those lines of an uncompressed file are read, so one large file
    can be spread over several workers.
    """
    base = replace(source_base, format="jsonl")
    with open_binary(path) as stream:
        lines: Iterable[bytes] = stream
        first = 1
        if byte_range is not None:
            stream.seek(byte_range.start)
            lines, first = _bounded(stream, byte_range.end - byte_range.start), byte_range.first_line
        for number, raw in enumerate(lines, start=first):
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


def _bounded(stream: BinaryIO, length: int) -> Iterator[bytes]:
    for raw in stream:
        yield raw
        length -= len(raw)
        if length <= 0:
            return
