"""Transparent decompression by file extension, streaming, with errors that name the file.

Readers only ever see a binary stream; whether the bytes were gzip, zstandard or plain is
decided here by the suffix alone (never by sniffing), so ``a.jsonl.gz`` is read as JSONL.
Decompression errors surface on ``read()``, not on ``open()``; they are turned into
`ReadError` so a truncated archive is reported like any other bad input instead of
escaping as ``EOFError`` or ``zstd.ZstdError`` from deep inside a reader.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO

import zstandard

from cleaner.readers.errors import ReadError
from cleaner.readers.formats import CODECS
from cleaner.remote import RemotePath

_CHUNK = 1 << 16


def strip_compression_suffix(name: str) -> tuple[str, str | None]:
    """``"a.jsonl.gz"`` -> ``("a.jsonl", "gz")``; names without a codec suffix come back as is."""
    for suffix, codec in CODECS.items():
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], codec
    return name, None


def open_binary(path: Path | RemotePath | str) -> BinaryIO:
    """Open a file for streaming reads, decompressing ``.gz``/``.zst`` on the fly.

    The caller closes the returned stream (it is a context manager).
    """
    path = path if isinstance(path, RemotePath) else Path(path)
    try:
        raw = open_raw(path)
    except OSError as exc:
        raise ReadError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    return decompressing(raw, path)


def decompressing(raw: BinaryIO, path: Path | RemotePath) -> BinaryIO:
    """`raw` (the file's bytes as stored) decompressed as `path`'s suffix says; closing the
    result closes `raw`."""
    _, codec = strip_compression_suffix(path.name)
    if codec is None:
        return raw
    inner: io.RawIOBase
    if codec == "gz":
        inner = _CheckedStream(gzip.GzipFile(fileobj=raw, mode="rb"), raw, path, "gzip")
    else:
        inner = _ZstdStream(raw, path)
    return io.BufferedReader(inner, buffer_size=_CHUNK)  # type: ignore[return-value]


def open_raw(path: Path | RemotePath) -> BinaryIO:
    """The file's bytes as stored, seekable. A remote file is wrapped in a large read buffer:
    fsspec's own line reading fetches 100 bytes at a time, too slow for JSON Lines."""
    if isinstance(path, Path):
        return open(path, "rb")
    stream = path.open("rb")
    if isinstance(stream, io.BufferedIOBase):
        return stream  # type: ignore[return-value]
    return io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[arg-type,return-value]


class _CheckedStream(io.RawIOBase):
    """Wraps a decompressing stream so its failures become `ReadError`s naming the file."""

    def __init__(self, stream: gzip.GzipFile, raw: BinaryIO, path: Path | RemotePath, codec: str) -> None:
        self._stream = stream
        self._raw = raw
        self._path = path
        self._codec = codec

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        try:
            return self._stream.readinto(buffer)
        except EOFError as exc:
            raise ReadError(f"{self._path}: truncated {self._codec} stream") from exc
        except (OSError, zlib.error) as exc:
            raise ReadError(f"{self._path}: corrupt {self._codec} stream: {exc}") from exc

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            self._raw.close()
        super().close()


class _ZstdStream(io.RawIOBase):
    """Streaming zstandard decoder that notices truncation.

    ``ZstdDecompressor.stream_reader`` returns a clean EOF when the input stops in the middle
    of a frame, silently losing data, so frames are decoded with ``decompressobj`` and an
    unfinished frame at end of file is reported. Concatenated frames are read one after another.
    """

    def __init__(self, raw: BinaryIO, path: Path | RemotePath) -> None:
        self._raw = raw
        self._path = path
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj()
        self._in_frame = False  # bytes fed to the current frame that did not finish it yet
        self._out = b""
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while self._pos >= len(self._out) and not self._eof:
            self._fill()
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def _fill(self) -> None:
        chunk = self._raw.read(_CHUNK)
        if not chunk:
            if self._in_frame:
                raise ReadError(f"{self._path}: truncated zst stream")
            self._eof = True
            return
        parts = []
        try:
            while chunk:
                parts.append(self._dobj.decompress(chunk))
                if self._dobj.eof:
                    chunk = self._dobj.unused_data
                    self._dobj = self._dctx.decompressobj()
                    self._in_frame = False
                else:
                    self._in_frame = True
                    chunk = b""
        except zstandard.ZstdError as exc:
            raise ReadError(f"{self._path}: corrupt zst stream: {exc}") from exc
        self._out = b"".join(parts)
        self._pos = 0

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
