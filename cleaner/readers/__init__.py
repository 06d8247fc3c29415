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
from cleaner.readers.jsonl import ByteRange, read_jsonl, split_lines
from cleaner.readers.records import RecordFields
from cleaner.remote import RemotePath

ErrorCallback = Callable[[str], None]
INPUT_FORMATS = ("txt", "html", "jsonl", "parquet")
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

__all__ = ["INPUT_FORMATS", "ByteRange", "ReadError", "ReadOptions", "file_digest", "format_of", "read_input",
           "read_whole", "split_lines", "splittable"]


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
               digest: tuple[str, int] | None = None, byte_range: ByteRange | None = None,
               whole: bytes | None = None) -> Iterator[Document]:
    """Documents of one input file. Whole-file failures raise ReadError or OSError; bad records
    are reported to `on_record_error` and skipped. `digest` is the file's (sha256, size) when the
    caller has it already; `byte_range` reads only part of a splittable file (see `splittable`);
    `whole` is what `read_whole` returned for it."""
    if item.error is not None:
        raise ReadError(item.error)
    kind = format_of(item.path, options.input_format)
    sha256, size = digest or file_digest(item.path, whole)
    base = Source(path=item.relative, root=item.source_name, sha256=sha256, size=size, format=kind)
    if kind == "jsonl":
        yield from read_jsonl(item.path, base, on_record_error, options.fields, byte_range)
    elif kind == "parquet":
        from cleaner.readers.parquet import read_parquet  # pyarrow loads only when Parquet is read

        yield from read_parquet(item.path, base, on_record_error, options.fields)
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


def splittable(item: InputFile, options: ReadOptions) -> bool:
    """Uncompressed JSON Lines can be read in line-aligned byte ranges by several workers."""
    return format_of(item.path, options.input_format) == "jsonl" and strip_compression_suffix(item.path.name)[1] is None


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
