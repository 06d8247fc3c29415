"""Readers turn one input file into Documents; `read_input` picks the reader by file name."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cleaner.document import Document
from cleaner.readers.discover import InputFile
from cleaner.readers.text import read_text

ErrorCallback = Callable[[str], None]


class ReadError(Exception):
    """An input (or one record of it) cannot be read; the message is one line naming it and the cause."""


def read_input(item: InputFile, on_record_error: ErrorCallback) -> Iterator[Document]:
    """Documents of one input file. Whole-file failures raise; bad records go to on_record_error."""
    yield from read_text(item)
