"""The work directory of a run: phase-1 spill files beside OUT, kept when a run stops early.

A run that is interrupted (Ctrl-C, a crash, a failed input under --on-error fail) leaves its
finished tasks here; `--resume` with the same inputs and settings picks them up instead of
cleaning those inputs again. Any other run starts from an empty work directory, and a run
that succeeds removes it. The key names what the spill files depend on, so a resumed run can
never mix results computed under other rules, settings or inputs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from cleaner.spill import spill_path

_META = "work.json"


def work_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class WorkDir:
    def __init__(self, out: Path) -> None:
        self.path = out.parent / f".{out.name}.work"

    def prepare(self, key: str, resume: bool) -> set[int]:
        """Make the directory ready; return the task indexes already finished (only with resume)."""
        meta = self.path / _META
        if resume and meta.is_file():
            try:
                stored = json.loads(meta.read_text(encoding="utf-8")).get("key")
            except ValueError:
                stored = None
            if stored == key:
                return self._finished()
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        meta.write_text(json.dumps({"key": key}) + "\n", encoding="utf-8")
        return set()

    def _finished(self) -> set[int]:
        done = set()
        for docs in self.path.glob("*.docs.pkl"):
            index = int(docs.name.split(".")[0])
            if spill_path(self.path, index, "dedup").is_file():
                done.add(index)
        return done

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
