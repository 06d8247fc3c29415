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
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from cleaner.document import Document, Source
from cleaner.readers.compression import decompressing, open_binary, open_raw, strip_compression_suffix
from cleaner.readers.encoding import decode_bytes
from cleaner.readers.errors import ReadError
from cleaner.readers.records import OnError, RecordFields, record_to_document
from cleaner.remote import RemotePath


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Part of a JSONL file: whole lines from byte `start` to `end` (of the decompressed stream,
    for a compressed file), the first of which is line `first_line` (1-based), so record indexes
    stay those of the whole file."""

    start: int
    end: int
    first_line: int

    @property
    def is_first(self) -> bool:
        return self.start == 0


def split_lines(path: Path | RemotePath, part_bytes: int, chunk_bytes: int = 1 << 23) -> tuple[str, int, list[ByteRange]]:
    """The file's sha256 and size (of its bytes as stored), and line-aligned ranges of about
    `part_bytes` of its lines, in one read. The ranges of a compressed file are offsets into
    its decompressed stream (see `OpenStreams`)."""
    hashed = _Hashing(open_raw(path))
    ranges: list[ByteRange] = []
    start, line, offset = 0, 1, 0
    lines_before = 0  # newlines seen before the current chunk
    with decompressing(hashed, path) as handle:
        while chunk := handle.read(chunk_bytes):
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
        hashed.drain()
    if offset > start or not ranges:
        ranges.append(ByteRange(start, offset, line))
    return hashed.digest.hexdigest(), hashed.size, ranges


class _Hashing(io.RawIOBase):
    """A file's bytes as stored, hashed as they are read (also when a decompressor reads them)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def drain(self) -> None:
        """Hash what a decompressor left unread after the end of its stream."""
        while self.read(1 << 20):
            pass

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class OpenStreams:
    """The decompressed stream of the compressed file a worker read a part of last, kept open
    where that part ended.

    A compressed stream cannot be seeked: reading part k of a file alone means decompressing
    every part before it, so the parts of an n-part file would cost n*n/2 parts' decompression.
    Engines hand tasks out in input order, so each worker receives the parts of one file in
    increasing order; keeping its stream open, it only reads forward, and decompresses the file
    at most once whichever parts it gets (a part it skips is decompressed and dropped, never
    parsed or held). The cost is that decompression, at some hundreds of MB/s, once per worker
    that reads the file: small next to cleaning at about 1 MB/s per core. Uncompressed files
    are seeked and never kept open.
    """

    def __init__(self) -> None:
        self._name: str | None = None
        self._stream: BinaryIO | None = None
        self._position = 0

    def take(self, path: Path | RemotePath, start: int) -> BinaryIO:
        """A stream of `path`'s lines positioned at byte `start`, for the caller to read and then
        `keep` or close."""
        stream, self._stream = self._stream, None
        if stream is not None and (self._name != str(path) or self._position > start):
            stream.close()
            stream = None
        if stream is None:
            stream, self._position = open_binary(path), 0
        try:
            if strip_compression_suffix(path.name)[1] is None:
                stream.seek(start)
            else:
                _skip(stream, start - self._position, path)
        except BaseException:
            stream.close()
            raise
        return stream

    def keep(self, path: Path | RemotePath, stream: BinaryIO, position: int) -> None:
        """Hold `stream`, now at byte `position`, for the next part of the same compressed file;
        an uncompressed or finished stream is closed instead."""
        self.close()
        if strip_compression_suffix(path.name)[1] is None or not stream.peek(1):  # type: ignore[attr-defined]
            stream.close()
            return
        self._name, self._stream, self._position = str(path), stream, position

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _skip(stream: BinaryIO, length: int, path: Path | RemotePath) -> None:
    while length > 0:
        data = stream.read(min(length, 1 << 20))
        if not data:
            raise ReadError(f"{path}: shorter than when its parts were planned (changed during the run?)")
        length -= len(data)


def read_jsonl(
    path: Path | RemotePath,
    source_base: Source,
    on_error: OnError,
    fields: RecordFields = RecordFields(),
    byte_range: ByteRange | None = None,
    streams: OpenStreams | None = None,
) -> Iterator[Document]:
    """Yield one document per JSON object line of ``path`` (plain, ``.gz`` or ``.zst``).

    ``source_base`` carries path, root, sha256 and size of the file; the reader sets format
    ``jsonl``, the record index and the URL. Blank lines are skipped without a message.
    A truncated or corrupt compressed file raises `ReadError` after yielding what was readable.
    With ``byte_range`` only those lines are read (see `split_lines`), so one large file can be
    spread over several workers, each holding one part at a time; ``streams`` keeps a compressed
    file open between the parts one worker reads (see `OpenStreams`).
    """
    base = replace(source_base, format="jsonl")
    if byte_range is None:
        with open_binary(path) as stream:
            yield from _records(stream, 1, base, source_base.path, on_error, fields)
        return
    streams = streams or OpenStreams()
    stream = streams.take(path, byte_range.start)
    try:
        yield from _records(_bounded(stream, byte_range.end - byte_range.start), byte_range.first_line, base,
                            source_base.path, on_error, fields)
    except BaseException:  # also GeneratorExit: a part left unread leaves the stream nowhere known
        stream.close()
        raise
    streams.keep(path, stream, byte_range.end)


def _records(lines: Iterable[bytes], first: int, base: Source, name: str, on_error: OnError,
             fields: RecordFields) -> Iterator[Document]:
    """The documents of `lines`, the first of which is line `first` of the file `name`."""
    for number, raw in enumerate(lines, start=first):
        if not raw.strip():
            continue
        where = f"{name}:{number}"
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
    if length <= 0:
        return
    for raw in stream:
        yield raw
        length -= len(raw)
        if length <= 0:
            return
