"""Incremental dedup state: what earlier runs indexed, saved in one file inside a directory.

Format (version 2; version 1 had no per-site counts): `<dir>/dedup-state.npz`, an uncompressed zip (readable with numpy.load)
of `header.json` (format name, version, settings, counts, input sha256s), `docs.json`
(document ids and paths, by ordinal) and plain .npy arrays, never pickles:

    para_doc, para_first, para_last  int32   document ordinal and 1-based line range
    para_start, para_end             int64   character range in the source
    para_exact                       uint64  exact hash of the normalised paragraph
    para_rep                         int64   index of the paragraph it was resolved to (itself if kept)
    para_long                        int64   index into the long-paragraph arrays, -1 if exact-only
    long_bands                       uint64  [long, bands] LSH band hashes
    long_offsets                     int64   [long + 1] offsets into shingles
    shingles                         uint32  sorted shingle hashes of each long paragraph
    recurring_hash, recurring_docs   uint64, int32  short paragraphs: distinct documents seen
    site_recurring_hash, site_recurring_docs  uint64, int32  the same per site (hash of site and text)

Writing goes to a temporary file in the same directory, fsynced, then os.replace()d over the
old file, so a crash leaves either the old or the new state. Zip CRCs and shape checks catch
corrupt or truncated files; any problem loading raises StateError with a one-line message.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cleaner.dedup.settings import DedupSettings
from cleaner.writers.output_dir import fsync_dir

FORMAT = "cleaner-dedup-state"
VERSION = 2
FILENAME = "dedup-state.npz"
_PARAGRAPH_ARRAYS = {
    "para_doc": np.int32,
    "para_first": np.int32,
    "para_last": np.int32,
    "para_start": np.int64,
    "para_end": np.int64,
    "para_exact": np.uint64,
    "para_rep": np.int64,
    "para_long": np.int64,
}
_READ_CHUNK = 1 << 24


class StateError(Exception):
    """A dedup state that cannot be used: missing, corrupt, foreign or built with other settings."""


class ShingleSource(Protocol):
    size: int

    def chunks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class _ZipShingles:
    """The shingles array of a saved state, streamed from the zip member on demand."""

    path: Path
    size: int

    def chunks(self) -> Iterator[bytes]:
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open("shingles.npy") as member:
                np.lib.format.read_magic(member)
                np.lib.format.read_array_header_1_0(member)
                remaining = self.size * 4
                while remaining:
                    data = member.read(min(remaining, _READ_CHUNK))
                    if not data:
                        raise StateError(f"{self.path}: corrupt dedup state (shingles truncated)")
                    remaining -= len(data)
                    yield data
                member.read()  # reaching the end makes zipfile check the CRC
        except (OSError, zipfile.BadZipFile, ValueError) as err:
            raise StateError(f"{self.path}: corrupt dedup state ({err})") from err

    def close(self) -> None:
        """Nothing to close: every `chunks()` opens the archive for itself."""


@dataclass
class _EmptyShingles:
    size: int = 0

    def chunks(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class DedupState:
    """Everything earlier runs indexed; see the module docstring for the arrays."""

    settings: DedupSettings
    inputs: set[str] = field(default_factory=set)  # sha256 of every input seen (for skipping unchanged inputs)
    doc_ids: list[str] = field(default_factory=list)
    doc_paths: list[str] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    shingles: ShingleSource = field(default_factory=_EmptyShingles)

    def __post_init__(self) -> None:
        assert self.settings.bands is not None
        for name, dtype in _PARAGRAPH_ARRAYS.items():
            self.arrays.setdefault(name, np.zeros(0, dtype=dtype))
        self.arrays.setdefault("long_bands", np.zeros((0, self.settings.bands), dtype=np.uint64))
        self.arrays.setdefault("long_offsets", np.zeros(1, dtype=np.int64))
        self.arrays.setdefault("recurring_hash", np.zeros(0, dtype=np.uint64))
        self.arrays.setdefault("recurring_docs", np.zeros(0, dtype=np.int32))
        self.arrays.setdefault("site_recurring_hash", np.zeros(0, dtype=np.uint64))
        self.arrays.setdefault("site_recurring_docs", np.zeros(0, dtype=np.int32))

    def close(self) -> None:
        """Close the shingle source: a run's state streams its shingles from the deduplicator's
        spill file (see Deduplicator.state), which is open until the state is saved."""
        self.shingles.close()

    @property
    def paragraphs(self) -> int:
        return len(self.arrays["para_doc"])

    @staticmethod
    def exists(directory: str | os.PathLike[str]) -> bool:
        return (Path(directory) / FILENAME).is_file()

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the state atomically into the directory (created if missing)."""
        target_dir = Path(directory)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / FILENAME
        header = {
            "format": FORMAT,
            "version": VERSION,
            "settings": self.settings.to_json(),
            "inputs": sorted(self.inputs),
            "documents": len(self.doc_ids),
            "paragraphs": self.paragraphs,
            "long": len(self.arrays["long_bands"]),
            "shingles": self.shingles.size,
        }
        fd, tmp_name = tempfile.mkstemp(prefix=".dedup-state-", suffix=".tmp", dir=target_dir)
        try:
            with os.fdopen(fd, "wb") as raw:
                with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                    archive.writestr(_member("header.json"), json.dumps(header, sort_keys=True))
                    archive.writestr(_member("docs.json"), json.dumps({"ids": self.doc_ids, "paths": self.doc_paths}))
                    for name in sorted(self.arrays):
                        with archive.open(_member(f"{name}.npy"), "w", force_zip64=True) as member:
                            np.lib.format.write_array(member, np.ascontiguousarray(self.arrays[name]), allow_pickle=False)
                    with archive.open(_member("shingles.npy"), "w", force_zip64=True) as member:
                        np.lib.format.write_array_header_1_0(
                            member, {"descr": "<u4", "fortran_order": False, "shape": (self.shingles.size,)}
                        )
                        for chunk in self.shingles.chunks():
                            member.write(chunk)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        fsync_dir(target_dir)
        return target

    @classmethod
    def load(cls, directory: str | os.PathLike[str], settings: DedupSettings) -> DedupState:
        """Read a saved state; refuse it unless it is intact and was built with these settings."""
        path = Path(directory) / FILENAME
        if not path.is_file():
            raise StateError(f"{path}: no dedup state here")
        try:
            with zipfile.ZipFile(path) as archive:
                header = _read_header(path, archive)
                stored = DedupSettings.from_json(header["settings"])
                if stored != settings:
                    changed = sorted(k for k, v in settings.to_json().items() if header["settings"].get(k) != v)
                    raise StateError(
                        f"{path}: dedup state was built with other settings ({', '.join(changed)}); "
                        "use the same settings or a fresh state directory"
                    )
                docs = json.loads(archive.read("docs.json"))
                arrays = {}
                for name in archive.namelist():
                    if name.endswith(".npy") and name != "shingles.npy":
                        with archive.open(name) as member:
                            arrays[name[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
            state = cls(
                settings=settings,
                inputs=set(header["inputs"]),
                doc_ids=list(docs["ids"]),
                doc_paths=list(docs["paths"]),
                arrays=arrays,
                shingles=_ZipShingles(path, int(header["shingles"])),
            )
        except StateError:
            raise
        except (OSError, zipfile.BadZipFile, ValueError, KeyError, TypeError, EOFError) as err:
            raise StateError(f"{path}: corrupt dedup state ({type(err).__name__}: {err})") from err
        _check_shapes(path, header, state)
        return state


def _read_header(path: Path, archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        header = json.loads(archive.read("header.json"))
    except KeyError as err:
        raise StateError(f"{path}: not a cleaner dedup state (no header.json)") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise StateError(f"{path}: not a cleaner dedup state (format {header.get('format')!r})")
    if header.get("version") != VERSION:
        raise StateError(f"{path}: dedup state version {header.get('version')!r}, this cleaner reads {VERSION}")
    return header


def _check_shapes(path: Path, header: dict[str, Any], state: DedupState) -> None:
    arrays = state.arrays
    n, n_long = int(header["paragraphs"]), int(header["long"])
    problems = [name for name, dtype in _PARAGRAPH_ARRAYS.items() if arrays[name].shape != (n,) or arrays[name].dtype != dtype]
    if arrays["long_bands"].shape != (n_long, state.settings.bands):
        problems.append("long_bands")
    offsets = arrays["long_offsets"]
    if offsets.shape != (n_long + 1,) or (n_long and int(offsets[-1]) != state.shingles.size):
        problems.append("long_offsets")
    if len(state.doc_ids) != int(header["documents"]) or len(state.doc_paths) != len(state.doc_ids):
        problems.append("docs.json")
    if n and (arrays["para_doc"].max() >= len(state.doc_ids) or arrays["para_rep"].max() >= n or arrays["para_long"].max() >= n_long):
        problems.append("paragraph references")
    if arrays["recurring_hash"].shape != arrays["recurring_docs"].shape:
        problems.append("recurring")
    if arrays["site_recurring_hash"].shape != arrays["site_recurring_docs"].shape:
        problems.append("site_recurring")
    if problems:
        raise StateError(f"{path}: corrupt dedup state (inconsistent {', '.join(problems)})")


def _member(name: str) -> zipfile.ZipInfo:
    """A state file member with a fixed date: the same state gives the same bytes on any day."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
