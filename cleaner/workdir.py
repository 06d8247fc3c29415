"""The work location of a run: phase-1 spill files and every later step's files, kept when a
run stops early.

By default it is the directory ``.OUT.work`` beside OUT; on a cluster whose workers do not share
the driver's disk it is a prefix under `--work-dir` (an fsspec URL such as ``s3://bucket/tmp``)
that every node reaches. A run that is interrupted (Ctrl-C, a crash, a failed input under
--on-error fail) leaves its finished tasks there; `--resume` with the same inputs and settings
picks them up instead of cleaning those inputs again. Any other run starts from an empty work
location, and a run that succeeds removes it. The key names what the spill files depend on, so
a resumed run can never mix results computed under other rules, settings or inputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cleaner import storage
from cleaner.spill import TaskSummary, read_summary

_META = "work.json"
_SUMMARY = ".summary.pkl"


def work_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class WorkDir:
    """`path` is the work location as a string: a local directory or an fsspec URL."""

    def __init__(self, out: Path, work_dir: str | None = None) -> None:
        out = out.absolute()  # Ray workers do not share the driver's working directory
        if work_dir is None:
            self.path = str(out.parent / f".{out.name}.work")
        else:  # one prefix per OUT under the user's location, never the location itself (it is removed)
            self.path = storage.join(work_dir, f"cleaner-{hashlib.sha256(str(out).encode()).hexdigest()[:16]}.work")

    def prepare(self, key: str, resume: bool) -> dict[int, TaskSummary]:
        """Make the location ready; return the summaries of tasks already finished (only with resume)."""
        meta = storage.join(self.path, _META)
        if resume and storage.exists(meta):
            try:
                stored = json.loads(storage.read_bytes(meta)).get("key")
            except ValueError:
                stored = None
            if stored == key:
                return self._finished()
        storage.remove_tree(self.path)
        storage.make_dirs(self.path)
        storage.write_atomically(meta, (json.dumps({"key": key}) + "\n").encode())
        return {}

    def _finished(self) -> dict[int, TaskSummary]:
        """Tasks whose summary was written: it is written after the task's other spill files."""
        indexes = (int(name.split(".")[0]) for name in storage.list_names(self.path) if name.endswith(_SUMMARY))
        return {index: read_summary(self.path, index) for index in indexes}

    def remove(self) -> None:
        storage.remove_tree(self.path)
