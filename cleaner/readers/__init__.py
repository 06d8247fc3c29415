"""Readers turn one input file into Documents; `read_input` picks the reader by file name.

Formats are recognised by extension after any `.gz`/`.zst` suffix (`dump.jsonl.zst` is
compressed JSONL), or forced with `ReadOptions.input_format`. The input's sha256 and size are of
the bytes on disk, so provenance can always be checked against the file the user has.
An input behind an fsspec URL (a `RemotePath`) is read the same way, through its filesystem.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cleaner.document import Document, Source, document_id
from cleaner.readers.compression import open_binary, open_raw, strip_compression_suffix
from cleaner.readers.discover import InputFile
from cleaner.readers.encoding import decode_bytes
from cleaner.readers.errors import ReadError
from cleaner.readers.formats import EXTENSIONS
from cleaner.readers.html import DEFAULT_TIMEOUT, read_html
from cleaner.readers.jsonl import ByteRange, OpenStreams, read_jsonl, split_lines
from cleaner.readers.records import RecordFields, RowGroups
from cleaner.remote import RemotePath

ErrorCallback = Callable[[str], None]
Part = ByteRange | RowGroups  # one task's share of an input (see `survey`)
INPUT_FORMATS = ("txt", "html", "jsonl", "parquet")
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

__all__ = ["INPUT_FORMATS", "ByteRange", "OpenStreams", "Part", "ReadError", "ReadOptions", "RowGroups", "Survey",
           "file_digest", "format_of", "read_input", "read_whole", "split_lines", "splittable", "survey"]
# Compressed inputs (and Parquet) hold several times their size on disk in text; one over this
# fraction of a task's bytes is surveyed (see `survey`) rather than batched with others unread.
COMPRESSION_ALLOWANCE = 8


@dataclass(frozen=True, slots=True)
class ReadOptions:
    input_format: str | None = None  # None: by extension
    fields: RecordFields = field(default_factory=RecordFields)
    html_timeout: float = DEFAULT_TIMEOUT
    html_fast: bool = False  # see readers.html.extract_html


def format_of(path: Path | RemotePath, forced: str | None = None) -> str:
    if forced:
        return forced
    base, _ = strip_compression_suffix(path.name)
    return EXTENSIONS.get(Path(base).suffix.lower(), "txt")


def read_input(item: InputFile, options: ReadOptions, on_record_error: ErrorCallback,
               digest: tuple[str, int] | None = None, part: Part | None = None,
               whole: bytes | None = None, streams: OpenStreams | None = None) -> Iterator[Document]:
    """Documents of one input file. Whole-file failures raise ReadError or OSError; bad records
    are reported to `on_record_error` and skipped. `digest` is the file's (sha256, size) when the
    caller has it already; `part` reads only part of a splittable file (see `survey`);
    `whole` is what `read_whole` returned for it; `streams` keeps a compressed file open between
    the parts of it one worker reads."""
    if item.error is not None:
        raise ReadError(item.error)
    kind = format_of(item.path, options.input_format)
    sha256, size = digest or file_digest(item.path, whole)
    base = Source(path=item.relative, root=item.source_name, sha256=sha256, size=size, format=kind)
    if kind == "jsonl":
        assert part is None or isinstance(part, ByteRange)
        yield from read_jsonl(item.path, base, on_record_error, options.fields, part, streams)
    elif kind == "parquet":
        from cleaner.readers.parquet import read_parquet  # pyarrow loads only when Parquet is read

        assert part is None or isinstance(part, RowGroups)
        yield from read_parquet(item.path, base, on_record_error, options.fields, part)
    elif kind == "html":
        yield from read_html(item.path, base, timeout=options.html_timeout, fast=options.html_fast)
    elif whole is not None:
        yield _text_document(whole, base)
    else:
        with open_binary(item.path) as stream:
            yield _text_document(stream.read(), base)


def read_whole(item: InputFile, options: ReadOptions) -> bytes | None:
    """The bytes of an input that is read whole anyway (an uncompressed text file), so that its
    caller hashes them instead of reading the file twice; None for any other input."""
    if item.error is not None or format_of(item.path, options.input_format) != "txt" \
            or strip_compression_suffix(item.path.name)[1] is not None:
        return None
    with open_raw(item.path) as handle:
        return handle.read()


def splittable(item: InputFile, size: int, options: ReadOptions, part_bytes: int) -> bool:
    """Whether the input may be more than one task's worth and can be read in parts: JSON Lines
    (plain or compressed) and Parquet. Decided from the name and the size on disk alone; how
    many parts it has is for `survey` to find out."""
    kind = format_of(item.path, options.input_format)
    compressed = kind == "parquet" or strip_compression_suffix(item.path.name)[1] is not None
    return kind in ("jsonl", "parquet") and size > (part_bytes // COMPRESSION_ALLOWANCE if compressed else part_bytes)


@dataclass(frozen=True, slots=True)
class Survey:
    """A splittable input's plan: its sha256 and size, shared by all its parts (a file's hash is
    in every record's id, so it is known before any part is cleaned), and its parts, each with
    the bytes on disk it stands for (for progress)."""

    sha256: str
    size: int
    parts: tuple[tuple[Part, int], ...]


def survey(item: InputFile, options: ReadOptions, part_bytes: int) -> Survey | None:
    """Plan a splittable input's parts in one sequential read of it, by a worker (never by
    the driver), at hashing or decompression speed (see `split_lines`, `split_row_groups`).

    Why a read, and not byte ranges cut from the size alone with each worker aligning its range
    to the next newline (Hadoop's splits): every record's id and provenance carry the sha256 of
    the whole file and the record's line number, so both must be known before any part is
    cleaned. The hash is a sequential read of the whole file whoever does it; the same read
    finds exact line-aligned ranges and the line each starts at, for free. Aligning in the
    workers would save nothing and leave the line numbers to a second pass (or to renumbering
    every id, duplicate reference and error message after phase 1). The read costs one pass at
    some hundreds of MB/s per file (plus decompression for .gz/.zst), next to cleaning at about
    1 MB/s per core, in O(1) memory; Parquet parts come from the footer, the read only hashes.

    None when the file is best read whole, as one task that reports why exactly as an unsplit
    input always has: it has one part only, or the survey could not read it (a truncated or
    corrupt file, a Parquet file without the content column).
    """
    if item.error is not None:
        return None
    try:
        if format_of(item.path, options.input_format) == "parquet":
            from cleaner.readers.parquet import split_row_groups

            groups = split_row_groups(item.path, part_bytes, options.fields)
            if len(groups) < 2:
                return None
            sha256, size = file_digest(item.path)
            return Survey(sha256, size, tuple(groups))
        sha256, size, ranges = split_lines(item.path, part_bytes)
    except (OSError, ReadError):
        return None
    if len(ranges) < 2:
        return None
    total = ranges[-1].end
    # A compressed part stands for its share of the file on disk (progress only).
    bounds = [size * r.start // total for r in ranges] + [size]
    return Survey(sha256, size, tuple((r, bounds[i + 1] - bounds[i]) for i, r in enumerate(ranges)))


def _text_document(data: bytes, base: Source) -> Document:
    """A plain-text file is one document, in whatever encoding it was written.

    A NUL byte anywhere means binary (an image, an archive, a database page) rather than text,
    except in UTF-16/32 files, which say so with a byte order mark. The whole file is checked,
    not just its head: a NUL deep in a text file is a sign of corruption that should be seen.
    """
    nul = data.find(b"\0")
    if nul >= 0 and not data.startswith(_WIDE_BOMS):
        raise ReadError(f"{base.path}: binary file (NUL byte at offset {nul}), not text")
    text, encoding = decode_bytes(data)
    source = Source(path=base.path, root=base.root, sha256=base.sha256, size=base.size, format="txt",
                    encoding=encoding)
    return Document(document_id(source), text, source)


def file_digest(path: Path | RemotePath, whole: bytes | None = None) -> tuple[str, int]:
    """sha256 and size of a file's bytes: of `whole` when the caller has read them already (see
    `read_whole`), else read in chunks."""
    if whole is not None:
        return hashlib.sha256(whole).hexdigest(), len(whole)
    digest = hashlib.sha256()
    size = 0
    with open_raw(path) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
