"""The write phase of one task: its documents' records, built by a worker from the task's spill
files and written by that worker.

After deduplication, what is left per document (applying its dedup decision, computing spans,
building and serialising the record, counting it) is independent per task, so it runs in the
workers (local processes or Ray actors). Each task's records go to part files of JSON lines in
the work location, and its clean texts straight into the staged OUT/text; the driver only gets
the task's counts back. Workers then cut the parts into the output shards (see
`writers.assemble`), so no record passes through the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner import storage
from cleaner.dedup.decisions import Decisions
from cleaner.document import Document
from cleaner.readers.formats import CODECS
from cleaner.spill import InputReport, TaskResult, read_decisions, read_result
from cleaner.stats import RunStats
from cleaner.storage import Location
from cleaner.writers.record import build_record
from cleaner.writers.shards import json_line

PARTS = ("documents", "rejected")


def part_path(work: Location, index: int, part: str) -> str:
    """Where a task's records of one kind (`documents` or `rejected`) wait to be cut into shards."""
    return storage.join(work, f"{index:08d}.{part}.jsonl")


@dataclass(frozen=True)
class RecordSettings:
    """What every record of a run shares."""

    added: str
    pipeline: dict[str, Any]
    text_root: str | None  # OUT/text (staged: an absolute path or a URL) when plain-text output is asked for


@dataclass
class WrittenTask:
    """What the driver gets back from a written task: its inputs, counts and records per part."""

    index: int
    inputs: list[InputReport]
    stats: RunStats
    records: dict[str, int]  # part -> records in the task's part file


@dataclass
class TaskRecords:
    """One task's records, built: the serialised lines of each part, the clean texts for
    OUT/text (when asked for) and what the driver counts."""

    written: WrittenTask
    parts: dict[str, bytes]
    texts: list[tuple[str, str]]  # (path under OUT/text, clean text)


def build_records(result: TaskResult, decisions: Decisions | None, settings: RecordSettings) -> TaskRecords:
    """Apply each document's dedup decision and build its record. Reads and writes nothing,
    so it runs the same in a local worker and on a Ray actor on another machine."""
    by_document = decisions.by_document() if decisions is not None else {}
    stats = RunStats()
    parts: dict[str, list[bytes]] = {part: [] for part in PARTS}
    texts = []
    for doc in result.documents:
        cleaned = doc.cleaned()
        decision = by_document.get(doc.document.id)
        if decision is not None:
            for line_index, claim in decision.removals:
                cleaned.claim(line_index, claim)
            cleaned.rejection = cleaned.rejection or decision.rejection
        spans = cleaned.spans()
        stats.add(cleaned, spans)
        record = build_record(cleaned, settings.added, settings.pipeline, spans)
        parts["rejected" if cleaned.rejection is not None else "documents"].append(json_line(record))
        if settings.text_root is not None and cleaned.rejection is None:
            texts.append((text_path(doc.document), record["text"]))
    return TaskRecords(WrittenTask(result.index, result.inputs, stats, {part: len(parts[part]) for part in PARTS}),
                       {part: b"".join(lines) for part, lines in parts.items()}, texts)


@dataclass
class TaskRecordWriter:
    """Builds the records of one task at a time, in a worker, and writes them to part files in
    the work location and under OUT/text."""

    work: str
    settings: RecordSettings

    def __call__(self, index: int) -> WrittenTask:
        built = build_records(read_result(self.work, index), read_decisions(self.work, index), self.settings)
        for part, block in built.parts.items():
            storage.write_atomically(part_path(self.work, index, part), block)
        root = self.settings.text_root
        if root is not None:
            directory = storage.local(root)
            for relative, text in built.texts:
                if directory is not None:
                    write_text(Path(directory), relative, text)
                else:
                    _upload_text(root, relative, text)
        return built.written


def text_path(document: Document) -> str:
    """Where a document's clean text goes under OUT/text: its input path, or one file per record.

    Only an uncompressed text input keeps its own name; the text of any other (``page.html``,
    ``a.txt.gz``) gets ``.txt`` appended, so no plain-text file is named like HTML or an archive,
    and no two inputs of one folder can meet on one name.
    """
    source = document.source
    if source.record is not None:
        return f"{source.path}/{source.record:08d}.txt"
    plain = source.format == "txt" and not source.path.lower().endswith(tuple(CODECS))
    return source.path if plain else f"{source.path}.txt"


def _upload_text(root: str, relative: str, text: str) -> None:
    """`write_text` for a staged OUT in a store, which has no exclusive creation: a clash is
    found when the second text arrives after the first (always within one task)."""
    target = storage.join(root, relative)
    if storage.exists(target):
        raise FileExistsError(f"{target}: two inputs map to the same text/ path; clean them into separate outputs")
    storage.write_atomically(target, text.encode("utf-8"))


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
