"""Wire the stages for one run: read -> strip -> detect language -> write, with provenance.

A run has two phases. Phase 1 (`TaskWorker`) reads one input task and cleans its documents;
tasks are independent, so an engine may run them in any order and in any process, and each
spills its results to disk. Phase 2 (`run`) reads the spilled results back in input order and
writes them, so the output never depends on how phase 1 was scheduled.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from functools import partial
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cleaner import __version__
from cleaner.document import Cleaned, Document
from cleaner.engines.local import map_tasks
from cleaner.filters.boilerplate import RuleFilter
from cleaner.filters.generic import GenericConfig, classify, load_generic_config
from cleaner.filters.language import detect_document, language_rejection, make_detector, mark_foreign_paragraphs
from cleaner.filters.quality import QualityConfig, judge, load_quality_config, preset_path
from cleaner.readers import ReadError, ReadOptions, read_input
from cleaner.readers.discover import InputFile, discover
from cleaner.rules.loader import RuleSet
from cleaner.spill import DocResult, TaskResult, read_result, write_result
from cleaner.stats import RunStats
from cleaner.writers.output_dir import GENERATOR, StagedOutput, check_output
from cleaner.writers.record import build_record
from cleaner.writers.shards import ShardedWriter

FORMATS = ("jsonl", "txt", "parquet")
ON_ERROR = ("skip", "fail")
FOREIGN_POLICIES = ("keep", "remove")


class InputFailure(Exception):
    """An input could not be read and `--on-error fail` was asked for; one line, names the file."""


@dataclass(frozen=True)
class Settings:
    """How a run behaves. `to_json` holds the part that changes output, recorded with every record."""

    glob: str = "*.txt"
    read: ReadOptions = field(default_factory=ReadOptions)
    formats: tuple[str, ...] = ("jsonl",)
    compress: str | None = None
    shard_size: int | None = None
    langid: str = "py3langid"
    languages: tuple[str, ...] = ()  # keep only documents in these languages; empty keeps all
    foreign_paragraphs: str = "keep"
    generic: bool = False
    quality: str = "default"  # a shipped preset name or a path to a quality TOML file
    on_error: str = "skip"
    workers: int = 1

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["formats"] = list(self.formats)
        data["languages"] = list(self.languages)
        for runtime_only in ("on_error", "workers"):
            data.pop(runtime_only)
        return data

    def quality_config(self) -> QualityConfig:
        path = Path(self.quality) if self.quality.endswith(".toml") else preset_path(self.quality)
        return load_quality_config(path)


class DocumentCleaner:
    """Phase 1 for one document: every per-document stage, in the order their inputs need.

    Language packs need the language, and the language should be read from clean text, so
    language-neutral rules (site and common packs) run first, the language is detected on what
    they keep, and then every applicable rule runs on the original text. The generic classifier
    and the foreign-paragraph check follow (they need the language), then the document-level
    judgements: the language filter and the quality heuristics.
    """

    def __init__(self, ruleset: RuleSet, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.rules = RuleFilter(ruleset)
        self.detector = make_detector(self.settings.langid)
        self.generic: GenericConfig | None = load_generic_config() if self.settings.generic else None
        self.quality = self.settings.quality_config()

    def clean(self, document: Document) -> Cleaned:
        cleaned = Cleaned.start(document)
        neutral = self.rules.applicable(cleaned, None, with_language_rules=False)
        self.rules.apply(cleaned, neutral)
        detect_document(cleaned, self.detector)
        lang, score = cleaned.lang, cleaned.lang_score
        full = self.rules.applicable(cleaned, None if lang == "und" else lang)
        if [r.id for r in full] != [r.id for r in neutral]:
            cleaned = Cleaned.start(document)
            self.rules.apply(cleaned, full)
            cleaned.lang, cleaned.lang_score = lang, score
        if self.generic is not None:
            classify(cleaned, self.generic)
        if self.settings.foreign_paragraphs == "remove":
            mark_foreign_paragraphs(cleaned, self.detector, "remove")
        if self.settings.languages:
            cleaned.rejection = language_rejection(cleaned, set(self.settings.languages))
        if cleaned.rejection is None:
            cleaned.rejection = judge(cleaned, self.quality)
        return cleaned


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of phase-1 work: an input file. Its index fixes its place in the output."""

    index: int
    file: InputFile


@dataclass(frozen=True, slots=True)
class TaskSummary:
    index: int
    documents: int
    bytes_read: int
    errors: int


@dataclass
class TaskWorker:
    """Runs phase 1 for tasks inside one process and spills each task's results."""

    ruleset: RuleSet
    settings: Settings
    spill_dir: Path
    _cleaner: DocumentCleaner | None = field(default=None, init=False, repr=False)

    def __call__(self, task: Task) -> TaskSummary:
        if self._cleaner is None:
            self._cleaner = DocumentCleaner(self.ruleset, self.settings)
        result = TaskResult(task.index)
        path = task.file.relative
        try:
            for document in read_input(task.file, self.settings.read,
                                       lambda message: result.errors.append((path, message))):
                result.documents.append(DocResult.from_cleaned(self._cleaner.clean(document)))
            result.bytes_read = task.file.path.stat().st_size
        except (OSError, ReadError) as exc:
            message = _one_line(exc, task.file)
            if self.settings.on_error == "fail":
                raise InputFailure(message) from None
            result.documents.clear()
            result.errors.append((path, message))
        if result.errors and self.settings.on_error == "fail":
            raise InputFailure(result.errors[0][1])
        write_result(self.spill_dir, result)
        return TaskSummary(task.index, len(result.documents), result.bytes_read, len(result.errors))


def _one_line(exc: BaseException, item: InputFile) -> str:
    """The failure as one line that names the input by the path it has in the output."""
    if isinstance(exc, OSError):
        return f"{item.relative}: {exc.strerror or type(exc).__name__}"
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message.replace(str(item.path), item.relative)


def added_timestamp() -> str:
    """When this run wrote its output; SOURCE_DATE_EPOCH pins it for reproducible runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch
              else dt.datetime.now(dt.timezone.utc))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(inputs: list[str], out: Path, ruleset: RuleSet, settings: Settings, *, force: bool = False) -> RunStats:
    """Clean every input into OUT; OUT changes only if the whole run succeeds."""
    started = time.perf_counter()
    files = discover(inputs, settings.glob)
    check_output(out, sorted({f.root for f in files}), force)
    tasks = [Task(i, f) for i, f in enumerate(files)]
    stats = RunStats()
    with StagedOutput(out) as staging:
        spill_dir = staging / ".spill"
        spill_dir.mkdir()
        map_tasks(partial(TaskWorker, ruleset, settings, spill_dir), tasks, settings.workers, lambda summary: None)
        phase1 = time.perf_counter()
        inputs_seen = _write_outputs(staging, tasks, spill_dir, ruleset, settings, stats)
        shutil.rmtree(spill_dir)
        _write_json(staging / "manifest.json", {
            "generator": GENERATOR,
            "version": __version__,
            "inputs": inputs_seen,
            "settings": settings.to_json(),
            "rules": {"digest": ruleset.digest, "packs": list(ruleset.packs)},
            "counts": stats.to_json()["documents"],
            "timings": {"phase1_seconds": round(phase1 - started, 3),
                        "total_seconds": round(time.perf_counter() - started, 3)},
        })
    return stats


def _write_outputs(staging: Path, tasks: list[Task], spill_dir: Path, ruleset: RuleSet, settings: Settings,
                   stats: RunStats) -> list[dict[str, Any]]:
    """Phase 2: every spilled document, in input order, into the output files.

    Returns the manifest's list of inputs, with the hash and size of the bytes actually read.
    """
    inputs_seen: list[dict[str, Any]] = []
    added = added_timestamp()
    pipeline_meta = {"cleaner": __version__, "rules_digest": ruleset.digest, "settings": settings.to_json()}
    writers = _record_writers(staging, "documents", settings)
    rejected = _record_writers(staging, "rejected", settings)
    try:
        for task in tasks:
            task_result = read_result(spill_dir, task.index)
            entry: dict[str, Any] = {"root": task.file.source_name, "path": task.file.relative}
            if task_result.documents:
                source = task_result.documents[0].document.source
                entry.update(sha256=source.sha256, size=source.size)
            for path, message in task_result.errors:
                stats.error(path, message)
                entry.setdefault("errors", []).append(message)
            inputs_seen.append(entry)
            for result in task_result.documents:
                cleaned = result.cleaned()
                stats.add(cleaned)
                record = build_record(cleaned, added, pipeline_meta)
                for writer in (rejected if cleaned.rejection is not None else writers):
                    writer.write(record)
                if "txt" in settings.formats and cleaned.rejection is None:
                    _write_text(staging / "text", text_path(result.document), record["text"])
    finally:
        for writer in (*writers, *rejected):
            writer.close()
    _write_json(staging / "stats.json", stats.to_json())
    return inputs_seen


def _record_writers(staging: Path, stem: str, settings: Settings) -> list[ShardedWriter]:
    return [ShardedWriter(staging, stem=stem, format=kind, compression=settings.compress if kind == "jsonl" else None,
                          shard_size=settings.shard_size)
            for kind in settings.formats if kind in ("jsonl", "parquet")]


def text_path(document: Document) -> str:
    """Where a document's clean text goes under OUT/text: its input path, or one file per record."""
    source = document.source
    return source.path if source.record is None else f"{source.path}/{source.record:08d}.txt"


def _write_text(root: Path, relative: str, text: str) -> None:
    target = root / relative
    if target.exists():
        raise FileExistsError(f"{target}: two inputs map to the same text/ path; clean them into separate outputs")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8"))  # bytes: line endings stay exactly as in the source


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
