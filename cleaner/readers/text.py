"""Plain-text inputs: one document per file, decoded without ever failing on bad bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from cleaner.document import Document, Source, document_id
from cleaner.readers.discover import InputFile


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (a BOM is dropped); bytes that are not UTF-8 are replaced, and that is recorded."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), "utf-8-replace"


def read_text(item: InputFile) -> Iterator[Document]:
    data = item.path.read_bytes()
    text, encoding = decode(data)
    source = Source(path=item.relative, root=item.source_name, sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data), format="txt", encoding=encoding)
    yield Document(document_id(source), text, source)
