"""The write phase of one task: its documents' records, built next to the task's spill files.

After deduplication, what is left per document (applying its dedup decision, computing spans,
building and serialising the record, counting it) is independent per task, so it runs in the
worker processes. Each task's records go to part files of JSON lines beside the spill files;
the driver appends the parts to the output shards in input order, which keeps the output the
same for any number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.document import Document
from cleaner.spill import InputReport, read_decisions, read_result
from cleaner.stats import RunStats
from cleaner.writers.record import build_record
from cleaner.writers.shards import json_line

PARTS = ("documents", "rejected")


def part_path(directory: Path, index: int, part: str) -> Path:
    """Where a task's records of one kind (`documents` or `rejected`) wait for the driver."""
    return directory / f"{index:08d}.{part}.jsonl"


@dataclass(frozen=True)
class RecordSettings:
    """What every record of a run shares."""

    added: str
    pipeline: dict[str, Any]
    text_root: Path | None  # OUT/text (staged) when plain-text output is asked for


@dataclass
class WrittenTask:
    """What the driver needs from a written task besides its part files."""

    index: int
    inputs: list[InputReport]
    stats: RunStats


@dataclass
class TaskRecordWriter:
    """Builds the records of one task at a time, in a worker process."""

    spill_dir: Path
    settings: RecordSettings

    def __call__(self, index: int) -> WrittenTask:
        result = read_result(self.spill_dir, index)
        spilled = read_decisions(self.spill_dir, index)
        decisions = spilled.by_document() if spilled is not None else {}
        stats = RunStats()
        parts: dict[str, list[bytes]] = {part: [] for part in PARTS}
        for doc in result.documents:
            cleaned = doc.cleaned()
            decision = decisions.get(doc.document.id)
            if decision is not None:
                for line_index, claim in decision.removals:
                    cleaned.claim(line_index, claim)
                cleaned.rejection = cleaned.rejection or decision.rejection
            spans = cleaned.spans()
            stats.add(cleaned, spans)
            record = build_record(cleaned, self.settings.added, self.settings.pipeline, spans)
            parts["rejected" if cleaned.rejection is not None else "documents"].append(json_line(record))
            if self.settings.text_root is not None and cleaned.rejection is None:
                write_text(self.settings.text_root, text_path(doc.document), record["text"])
        for part, lines in parts.items():
            part_path(self.spill_dir, index, part).write_bytes(b"".join(lines))
        return WrittenTask(index, result.inputs, stats)


def text_path(document: Document) -> str:
    """Where a document's clean text goes under OUT/text: its input path, or one file per record."""
    source = document.source
    return source.path if source.record is None else f"{source.path}/{source.record:08d}.txt"


def write_text(root: Path, relative: str, text: str) -> None:
    """Write one clean text; exclusive creation, so two inputs (perhaps in two workers) that map
    to the same path are an error rather than one silently replacing the other."""
    target = root / relative
    clash = FileExistsError(f"{target}: two inputs map to the same text/ path; clean them into separate outputs")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("xb") as handle:
            handle.write(text.encode("utf-8"))  # bytes: line endings stay exactly as in the source
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        raise clash from None
