"""Reading a finished run's output directory for the report, without loading the corpus.

Only stats.json and manifest.json are read whole; documents are streamed and only the first
`SAMPLE` records are kept (output order is input order, so the sample is deterministic).
The output may be a local directory or an fsspec URL (a run that published to ``s3://...``);
records are streamed from either, never downloaded whole.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.readers.compression import open_binary
from cleaner.remote import RemotePath, filesystem, is_url, join, local_path

RunFile = Path | RemotePath

SAMPLE = 200
REJECTED_SAMPLE = 50
_DOCUMENTS = re.compile(r"documents(?:-\d+)?\.jsonl(?:\.gz|\.zst)?")
_REJECTED = re.compile(r"rejected(?:-\d+)?\.jsonl(?:\.gz|\.zst)?")


@dataclass(frozen=True, slots=True)
class RunOutput:
    stats: dict[str, Any]
    manifest: dict[str, Any]
    documents: list[dict[str, Any]]  # the first SAMPLE output records
    rejected: list[dict[str, Any]]  # the first REJECTED_SAMPLE rejected records


def load_run(out: str | Path, sample: int = SAMPLE, rejected_sample: int = REJECTED_SAMPLE) -> RunOutput:
    """Read what the report needs; raises FileNotFoundError/ValueError naming the bad file."""
    files = run_files(out)
    if "stats.json" not in files:
        raise FileNotFoundError(f"{join(str(out), 'stats.json')}: missing; the report is written from a finished run's output")
    return RunOutput(
        stats=_read_json(files["stats.json"]),
        manifest=_read_json(files["manifest.json"]) if "manifest.json" in files else {},
        documents=_first_records(_matching(files, _DOCUMENTS), sample),
        rejected=_first_records(_matching(files, _REJECTED), rejected_sample),
    )


def run_files(out: str | Path) -> dict[str, RunFile]:
    """The files at the top of a run's output, by name; none when it does not exist."""
    name = local_path(str(out))
    if not is_url(name):
        directory = Path(name)
        return {p.name: p for p in directory.iterdir() if p.is_file()} if directory.is_dir() else {}
    fs, root = filesystem(name)
    try:
        entries = fs.ls(root, detail=True)
    except FileNotFoundError:
        return {}
    found: dict[str, RunFile] = {}
    for entry in entries:
        if entry.get("type") == "file":
            base = entry["name"].rstrip("/").rsplit("/", 1)[-1]
            found[base] = RemotePath(join(name, base))
    return found


def _read_json(path: RunFile) -> dict[str, Any]:
    """A JSON object file of a run (stats.json, manifest.json)."""
    try:
        with open_binary(path) as stream:
            value = json.loads(stream.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def _matching(files: dict[str, RunFile], pattern: re.Pattern[str]) -> list[RunFile]:
    return [files[name] for name in sorted(files) if pattern.fullmatch(name)]


def _first_records(paths: list[RunFile], limit: int) -> list[dict[str, Any]]:
    return list(itertools.islice(_records(paths), limit))


def iter_records(out: str | Path) -> Iterator[dict[str, Any]]:
    """Every record of a run, output documents first, then rejected ones, streamed from JSONL shards."""
    files = run_files(out)
    yield from _records(_matching(files, _DOCUMENTS) + _matching(files, _REJECTED))


def _records(paths: list[RunFile]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with open_binary(path) as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise ValueError(f"{path}:{number}: not a JSON record: {exc}") from exc
