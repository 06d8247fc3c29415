"""Reading a finished run's output directory for the report, without loading the corpus.

Only stats.json and manifest.json are read whole; documents are streamed and only the first
`SAMPLE` records are kept (output order is input order, so the sample is deterministic).
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


def load_run(out_dir: Path, sample: int = SAMPLE, rejected_sample: int = REJECTED_SAMPLE) -> RunOutput:
    """Read what the report needs; raises FileNotFoundError/ValueError naming the bad file."""
    stats_path = out_dir / "stats.json"
    if not stats_path.is_file():
        raise FileNotFoundError(f"{stats_path}: missing; the report is written from a finished run's output")
    stats = _read_json(stats_path)
    manifest_path = out_dir / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.is_file() else {}
    return RunOutput(
        stats=stats,
        manifest=manifest,
        documents=_first_records(_matching(out_dir, _DOCUMENTS), sample),
        rejected=_first_records(_matching(out_dir, _REJECTED), rejected_sample),
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def _matching(out_dir: Path, pattern: re.Pattern[str]) -> list[Path]:
    return sorted(p for p in out_dir.iterdir() if p.is_file() and pattern.fullmatch(p.name))


def _first_records(paths: list[Path], limit: int) -> list[dict[str, Any]]:
    return list(itertools.islice(_records(paths), limit))


def iter_records(out_dir: Path) -> Iterator[dict[str, Any]]:
    """Every record of a run, output documents first, then rejected ones, streamed from JSONL shards."""
    yield from _records(_matching(out_dir, _DOCUMENTS) + _matching(out_dir, _REJECTED))


def _records(paths: list[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with open_binary(path) as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise ValueError(f"{path}:{number}: not a JSON record: {exc}") from exc
