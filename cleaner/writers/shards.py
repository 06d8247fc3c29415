"""Splitting the output into numbered shards: JSONL (plain, gzip, zstd) or Parquet.

``shard_size`` counts records, not bytes: a record count gives the same shard boundaries
whatever the compression or format, so the JSONL and Parquet outputs of one run line up
shard for shard, and a record's shard can be computed from its position. Without a
``shard_size`` there is one file, ``documents.jsonl``; with one, ``documents-00000.jsonl``,
``documents-00001.jsonl``, ... At least one file is always written, so an empty run still
has an output to point at.

Compressed output is deterministic: gzip (level 6, as the gzip tool) with mtime 0 and no file
name in the header; zstandard at a fixed level with content checksums and no threads.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol

import orjson
import zstandard

# What a run can write: records in shards (jsonl, parquet), or the clean text as a .txt tree
# mirroring the inputs (cleaner.writers.task_records); only the sharded ones go through here.
FORMATS = ("jsonl", "txt", "parquet")
SHARDED_FORMATS = tuple(kind for kind in FORMATS if kind != "txt")
COMPRESSIONS = (None, "gz", "zst")


class ShardedWriter:
    """Writes records into ``directory`` as ``<stem>[-NNNNN].<format>[.gz|.zst]``.

    ``close()`` (or leaving the ``with`` block) finishes the last shard; ``paths`` lists the
    files written, in order.
    """

    def __init__(
        self,
        directory: Path,
        *,
        stem: str = "documents",
        format: str = "jsonl",
        compression: str | None = None,
        shard_size: int | None = None,
        first_shard: int = 0,
    ) -> None:
        if format not in SHARDED_FORMATS:
            raise ValueError(f"unknown output format {format!r} (choose from {', '.join(SHARDED_FORMATS)})")
        if compression not in COMPRESSIONS:
            raise ValueError(f"unknown compression {compression!r} (choose gz or zst)")
        if format == "parquet" and compression is not None:
            raise ValueError("Parquet output is compressed internally; use no --compression with it")
        if shard_size is not None and shard_size < 1:
            raise ValueError(f"shard size must be at least 1 record, got {shard_size}")
        self.directory = Path(directory)
        self.stem = stem
        self.format = format
        self.compression = compression
        self.shard_size = shard_size
        self.first_shard = first_shard  # the number of the first shard written (see writers.assemble)
        self.paths: list[Path] = []
        self.count = 0
        self._in_shard = 0
        self._shard: _Shard | None = None

    def write(self, record: dict[str, Any]) -> None:
        self.write_lines(json_line(record))

    def write_lines(self, block: bytes) -> None:
        """Append records already serialised by `json_line`, as many as the block holds.

        Worker processes serialise their records; the driver only appends the bytes, cutting
        them into shards at line ends.
        """
        start = 0
        while start < len(block):
            if self._shard is None or (self.shard_size is not None and self._in_shard >= self.shard_size):
                self._next_shard()
            assert self._shard is not None
            end, lines = len(block), block.count(b"\n", start)
            if self.shard_size is not None and lines > self.shard_size - self._in_shard:
                lines = self.shard_size - self._in_shard
                end = start
                for _ in range(lines):
                    end = block.index(b"\n", end) + 1
            self._shard.write_lines(block[start:end])  # a whole block is not copied: bytes slicing returns it
            self._in_shard += lines
            self.count += lines
            start = end

    def close(self) -> list[Path]:
        if self._shard is None:
            self._next_shard()
        assert self._shard is not None
        self._shard.close()
        return self.paths

    def __enter__(self) -> ShardedWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def shard_name(self, number: int) -> str:
        suffix = self.format + (f".{self.compression}" if self.compression else "")
        if self.shard_size is None:
            return f"{self.stem}.{suffix}"
        return f"{self.stem}-{number:05d}.{suffix}"

    def _next_shard(self) -> None:
        if self._shard is not None:
            self._shard.close()
        path = self.directory / self.shard_name(self.first_shard + len(self.paths))
        self.paths.append(path)
        self._in_shard = 0
        if self.format == "parquet":
            self._shard = _ParquetShard(path)
        else:
            self._shard = _JsonlShard(path, self.compression)


def json_line(record: dict[str, Any]) -> bytes:
    """One record as the JSONL output holds it: compact JSON, UTF-8, one line.

    orjson serialises it, several times faster than `json` on records that carry a whole
    article and its removed spans. The few records orjson refuses (an integer beyond 64 bits in
    a JSONL input's own fields) go through `json` in the same compact form.
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class _Shard(Protocol):
    def write_lines(self, block: bytes) -> None: ...

    def close(self) -> None: ...


class _ParquetShard:
    def __init__(self, path: Path) -> None:
        from cleaner.writers.parquet import ParquetRecordWriter  # pyarrow loads only when Parquet is written

        self._writer = ParquetRecordWriter(path)

    def write_lines(self, block: bytes) -> None:
        for line in block.split(b"\n")[:-1]:
            self._writer.write(json.loads(line))

    def close(self) -> None:
        self._writer.close()


class _JsonlShard:
    def __init__(self, path: Path, compression: str | None) -> None:
        self._raw = open(path, "wb")
        self._stream: BinaryIO
        if compression == "gz":
            self._stream = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, compresslevel=6, mtime=0)  # type: ignore[assignment]
        elif compression == "zst":
            compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
            self._stream = compressor.stream_writer(self._raw, closefd=False)  # type: ignore[assignment]
        else:
            self._stream = self._raw

    def write_lines(self, block: bytes) -> None:
        self._stream.write(block)

    def close(self) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()
