""".npy files under the work location, written whole and read by rows.

The dedup steps read a few rows of large files (a chunk's paragraphs, a table's rows for the
keys asked about). In a local directory a memory map does that for the pages touched; a store
has no memory maps, so there the rows are fetched by ranged reads of the file's data, found
after its header (`np.lib.format`), nearby rows in one request. `open_array` picks the one that
fits the location; both give the same rows.
"""

from __future__ import annotations

import io
import os
import struct

import numpy as np

from cleaner import storage
from cleaner.remote import filesystem

# Rows closer than this in a file are fetched with the bytes between them, in one request: a
# store answers a request in milliseconds, and reads a MiB in about as long.
GAP_BYTES = 1 << 20
_HEAD_BYTES = 4096  # enough for the header of any array of our dtypes


def save_array(path: str, array: np.ndarray, *, durable: bool = False, sync_directory: bool = True) -> None:
    """Write `array` to `path` whole: a reader sees the file complete or not at all. `durable`
    (a dedup state's files) also syncs it and the directories it made to disk, in the writer,
    so a commit that lists it need not (see `storage.open_atomically`, also for
    `sync_directory`)."""
    storage.make_dirs(path.rsplit("/", 1)[0], durable=durable)
    with storage.open_atomically(path, durable=durable, sync_directory=sync_directory) as handle:
        np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


def _layout(head: bytes, where: str) -> tuple[np.dtype, int, int]:
    """(dtype, rows, offset of the first row) of a .npy file from its first bytes (at least its
    header: `_header_end`)."""
    stream = io.BytesIO(head)
    version = np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(stream)
    if len(shape) != 1 or fortran or dtype.hasobject:
        raise ValueError(f"{where}: not a 1-d array of plain values")
    return dtype, shape[0], stream.tell()


def _header_end(head: bytes, where: str) -> int:
    """Where the header of a .npy file ends, from its first 10 or 12 bytes."""
    version = (head[6], head[7]) if len(head) >= 8 else None
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"{where}: not a .npy file of version 1.0 or 2.0")
    size_format = "<H" if version == (1, 0) else "<I"
    return 8 + struct.calcsize(size_format) + struct.unpack_from(size_format, head, 8)[0]


class _NpyFile:
    """What both readers share: the file's header, read once per object, and a small file's
    rows, which come whole with that first read (a shuffle file's starts, a small table): read
    from it, the file is opened or requested once."""

    def __init__(self, where: str) -> None:
        self._where = where
        self._header: tuple[np.dtype, int, int] | None = None
        self._small: np.ndarray | None = None

    def _head(self, size: int) -> bytes:
        """The file's first `size` bytes (fewer if it is shorter)."""
        raise NotImplementedError

    def _layout(self) -> tuple[np.dtype, int, int]:
        """(dtype, rows, offset of the first row)."""
        if self._header is None:
            head = self._head(_HEAD_BYTES)
            end = _header_end(head, self._where)
            if end > len(head):
                head = self._head(end)
            self._header = dtype, rows, offset = _layout(head, self._where)
            if len(head) >= offset + rows * dtype.itemsize:
                self._small = np.frombuffer(head, dtype=dtype, count=rows, offset=offset)
        return self._header

    def __len__(self) -> int:
        return self._layout()[1]

    @property
    def dtype(self) -> np.dtype:
        return self._layout()[0]

    def whole(self) -> np.ndarray:
        """Every row (locally a memory map, so a binary search over it touches only a few pages)."""
        self._layout()
        return self._small.copy() if self._small is not None else self._whole()

    def take(self, at: np.ndarray) -> np.ndarray:
        """The rows at these positions, in this order."""
        self._layout()
        return self._small[np.asarray(at, dtype=np.int64)] if self._small is not None else self._take(at)

    def span(self, begin: int, end: int) -> np.ndarray:
        """Rows begin to end (exclusive)."""
        self._layout()
        return self._small[begin:end].copy() if self._small is not None else self._span(begin, end)

    def _whole(self) -> np.ndarray:
        raise NotImplementedError

    def _take(self, at: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _span(self, begin: int, end: int) -> np.ndarray:
        raise NotImplementedError


class MappedArray(_NpyFile):
    """A local .npy file: rows read through a memory map that lives for one read (the pages a
    read touches count in the process's resident memory only while mapped), or a span read
    straight from the file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._path = path

    def _head(self, size: int) -> bytes:
        with open(self._path, "rb") as handle:
            return handle.read(size)

    def _whole(self) -> np.ndarray:
        dtype, rows, offset = self._layout()
        return np.memmap(self._path, dtype=dtype, mode="r", offset=offset, shape=(rows,)) if rows \
            else np.zeros(0, dtype=dtype)

    def _take(self, at: np.ndarray) -> np.ndarray:
        mapped = self._whole()
        rows = np.array(mapped[at])
        del mapped
        return rows

    def _span(self, begin: int, end: int) -> np.ndarray:
        dtype, _, offset = self._layout()
        return np.fromfile(self._path, dtype=dtype, count=max(0, end - begin), offset=offset + begin * dtype.itemsize)


class RangedArray(_NpyFile):
    """A 1-d .npy file in a store, read by byte ranges (its header is read once)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._url = url
        self._fs, self._inner = filesystem(url)

    def _head(self, size: int) -> bytes:
        data: bytes = self._fs.cat_file(self._inner, start=0, end=size)
        return data

    def _whole(self) -> np.ndarray:
        return self._span(0, len(self))

    def _span(self, begin: int, end: int) -> np.ndarray:
        """Rows begin to end (exclusive), in one request."""
        dtype, _, offset = self._layout()
        size = (end - begin) * dtype.itemsize
        data = self._fs.cat_file(self._inner, start=offset + begin * dtype.itemsize, end=offset + end * dtype.itemsize) \
            if size > 0 else b""
        if len(data) != max(size, 0):
            raise ValueError(f"{self._url}: shorter than its header says")
        return np.frombuffer(bytearray(data), dtype=dtype)

    def _take(self, at: np.ndarray) -> np.ndarray:
        dtype, _, offset = self._layout()
        at = np.asarray(at, dtype=np.int64)
        if not len(at):
            return np.zeros(0, dtype=dtype)
        wanted, inverse = np.unique(at, return_inverse=True)
        # Spans of rows fetched in one request each: a new span where the gap is too wide.
        cut = np.flatnonzero(np.diff(wanted) > max(1, GAP_BYTES // dtype.itemsize)) + 1
        first, last = wanted[np.r_[0, cut]], wanted[np.r_[cut - 1, len(wanted) - 1]] + 1
        blobs = self._fs.cat_ranges([self._inner] * len(first), (offset + first * dtype.itemsize).tolist(),
                                    (offset + last * dtype.itemsize).tolist(), on_error="raise")
        data = b"".join(blobs)
        if len(data) != int((last - first).sum()) * dtype.itemsize:
            raise ValueError(f"{self._url}: shorter than its header says")
        fetched = np.frombuffer(data, dtype=dtype)
        span = np.searchsorted(first, wanted, side="right") - 1
        starts = np.r_[0, np.cumsum(last - first)[:-1]]
        return fetched[starts[span] + wanted - first[span]][inverse.reshape(-1)]


def open_array(path: str) -> MappedArray | RangedArray:
    """The .npy file at `path` (a local path or a URL), for reading rows."""
    here = storage.local(path)
    return MappedArray(here) if here is not None else RangedArray(os.fspath(path))
