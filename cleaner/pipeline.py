"""Wire the stages for one run: read -> strip -> detect language -> write, with provenance.

A run has two phases. Phase 1 (`TaskWorker`) reads one input task and cleans its documents;
tasks are independent, so an engine may run them in any order and in any process, and each
spills its results to the work location and returns only counts. Phase 2 (`run`) deduplicates
over the spilled fingerprints, then workers write each task's records and cut them into the
output shards in input order, so the output never depends on how either phase was scheduled,
and the driver holds counts per task, never documents or records.
"""

from __future__ import annotations

import json
import os
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, astuple, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cleaner import __version__, storage
from cleaner.dedup import (
    DedupSettings,
    DedupState,
    StateError,
    deduplicate,
)
from cleaner.dedup.components import Spread, process_spread
from cleaner.dedup.fingerprint import fingerprint_batch
from cleaner.dedup.job import STATE_BITS, group_tasks, range_bits
from cleaner.dedup.records import REF_COLUMNS, DedupBatch, DedupStats, site_key
from cleaner.dedup.shape import LineShapes
from cleaner.dedup.tokens import Tokenizer
from cleaner.document import Cleaned
from cleaner.engines.local import map_tasks
from cleaner.files import GENERATOR
from cleaner.filters.classifier import default_model_path
from cleaner.filters.stage import StageStats
from cleaner.guards import Guards, check_guards
from cleaner.progress import progress_bar
from cleaner.readers import (
    OpenStreams,
    Part,
    ReadError,
    ReadOptions,
    Survey,
    file_digest,
    read_input,
    read_whole,
    splittable,
    survey,
)
from cleaner.readers.discover import InputFile, discover
from cleaner.readers.formats import DEFAULT_GLOB
from cleaner.rules.loader import RuleSet
from cleaner.run_clock import run_moment
from cleaner.spill import (
    DocResult,
    InputReport,
    TaskResult,
    TaskSummary,
    read_dedup,
    write_decisions,
    write_result,
)
from cleaner.stages import DocumentCleaner, StageSettings
from cleaner.stats import RunStats
from cleaner.workdir import WorkDir, work_key
from cleaner.writers.assemble import ShardAssembler, plan_shards
from cleaner.writers.output_dir import StagedOutput, check_output
from cleaner.writers.shards import SHARDED_FORMATS
from cleaner.writers.task_records import PARTS, RecordSettings, TaskRecordWriter, WrittenTask

if TYPE_CHECKING:  # Ray is an optional extra, imported only when a run asks for it
    from cleaner.engines.ray import RayEngine

TASK_MAX_FILES = 64
# A task's documents are in memory at once, as Python objects (lines, views, claims) at some 25x
# their size on disk; 2 MB keeps a worker near 100 MB, and spill files stay few.
TASK_MAX_BYTES = 2 << 20
ON_ERROR = ("skip", "fail")
ENGINES = ("local", "ray")


class InputFailure(Exception):
    """An input could not be read and `--on-error fail` was asked for; one line, names the file."""


@dataclass(frozen=True)
class Settings:
    """How a run behaves. `to_json` holds the part that changes output, recorded with every record."""

    glob: str = DEFAULT_GLOB
    read: ReadOptions = field(default_factory=ReadOptions)
    formats: tuple[str, ...] = ("jsonl",)
    compress: str | None = None
    shard_size: int | None = None
    stages: StageSettings = field(default_factory=StageSettings)
    dedup: DedupSettings | None = field(default_factory=DedupSettings)  # None: no deduplication
    on_error: str = "skip"
    workers: int = 1  # local engine: processes; ray engine: CPUs of the local Ray instance it starts
    engine: str = "local"  # where phase 1 and the dedup grouping, verification and components run: "local" or "ray"
    ray_address: str | None = None  # ray engine: an existing cluster to join instead of starting one

    def to_json(self) -> dict[str, Any]:
        return {"glob": self.glob, "read": asdict(self.read), "formats": list(self.formats), "compress": self.compress,
                "shard_size": self.shard_size, **self.stages.to_json(),
                "dedup": asdict(self.dedup) if self.dedup is not None else None}


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of phase-1 work: a batch of input files, or one part of a large JSONL or Parquet
    file. Its index fixes its place in the output.

    Small files are batched so per-task overhead (a spill file, a message between processes, a
    numpy call for fingerprints) is paid per few megabytes, not per file; a large file is cut
    into parts (line ranges, row-group ranges: see `readers.survey`) so that no task holds more
    than about TASK_MAX_BYTES of text, whatever the size of the file, and several workers share it.
    """

    index: int
    files: tuple[InputFile, ...]
    part: Part | None = None  # with exactly one file: the part of it to read
    digest: tuple[str, int] | None = None  # that file's (sha256, size), hashed once for all its parts
    # Bytes it covers, as the files measured when the task was made (for progress): a worker
    # need not stat them again.
    size: int = field(kw_only=True)

    @property
    def continues(self) -> bool:
        """A part of a file after its first: the file is listed, and counted, with its first part."""
        return self.part is not None and not self.part.is_first


@dataclass(frozen=True, slots=True)
class SurveyWorker:
    """Surveys splittable inputs in a worker process (see `readers.survey`): planning reads
    file footers and whole files only there, never in the driver."""

    read: ReadOptions
    max_bytes: int = TASK_MAX_BYTES

    def __call__(self, job: tuple[int, InputFile]) -> tuple[int, Survey | None]:
        position, item = job
        return position, survey(item, self.read, self.max_bytes)


def to_survey(files: list[InputFile], read: ReadOptions, max_bytes: int = TASK_MAX_BYTES) -> list[tuple[int, InputFile]]:
    """The inputs that may need several tasks, by their position in `files`, to be surveyed
    before tasks are made; every other input is planned from its size on disk."""
    return [(position, item) for position, item in enumerate(files)
            if item.error is None and splittable(item, _size(item.path), read, max_bytes)]


def make_tasks(files: list[InputFile], surveys: dict[int, Survey | None] | None = None,
               max_files: int = TASK_MAX_FILES, max_bytes: int = TASK_MAX_BYTES) -> list[Task]:
    """Tasks in input order. `surveys` has the parts of the inputs `to_survey` listed, by their
    position in `files` (None for one read whole); an input without a survey is batched."""
    tasks: list[Task] = []
    batch: list[InputFile] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if batch:
            tasks.append(Task(len(tasks), tuple(batch), size=size))
            batch, size = [], 0

    for position, item in enumerate(files):
        planned = (surveys or {}).get(position)
        if planned is not None:
            flush()
            tasks += [Task(len(tasks) + i, (item,), part, (planned.sha256, planned.size), size=part_size)
                      for i, (part, part_size) in enumerate(planned.parts)]
            continue
        item_size = _size(item.path)
        if batch and (len(batch) >= max_files or size + item_size > max_bytes):
            flush()
        batch.append(item)
        size += item_size
    flush()
    return tasks


def plan_tasks(files: list[InputFile], settings: Settings, engine: RayEngine | None = None) -> list[Task]:
    """The run's tasks, in input order. Inputs that may be large are surveyed first, in worker
    processes or on the cluster (see `readers.survey`), so the driver reads no input data."""
    jobs = to_survey(files, settings.read, TASK_MAX_BYTES)
    surveys: dict[int, Survey | None] = {}

    def store(surveyed: tuple[int, Survey | None]) -> None:
        surveys[surveyed[0]] = surveyed[1]

    if engine is not None:
        jobs = [(position, replace(item, path=item.path.absolute())) for position, item in jobs]
    _map(engine, partial(SurveyWorker, settings.read, TASK_MAX_BYTES), jobs, settings.workers, store)
    return make_tasks(files, surveys, max_bytes=TASK_MAX_BYTES)


def _map(engine: RayEngine | None, factory: Callable[[], Callable[[Any], Any]], jobs: Iterable[Any], workers: int,
         on_done: Callable[[Any], object]) -> None:
    """Every job through a runner built by `factory`, on the Ray actors or in up to `workers`
    local processes (`--workers 1`: this one); `on_done` gets each result in the driver, in the
    order they finish. Jobs are taken from `jobs` as workers are free for them. A single job
    goes to a worker process too (the pool starts processes as jobs need them), so the driver
    reads no input even when one large file is the whole corpus."""
    if engine is not None:
        engine.map_tasks(factory, jobs, on_done)
        return
    if isinstance(jobs, list) and not jobs:
        return
    map_tasks(factory, jobs, max(1, workers), on_done)


def _absolute(task: Task) -> Task:
    """The task with absolute input paths, for workers that do not share the driver's working
    directory (Ray workers on other nodes). Provenance uses the relative names, so it is unchanged."""
    return replace(task, files=tuple(replace(item, path=item.path.absolute()) for item in task.files))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported when the task reads it


@dataclass
class TaskCleaner:
    """Phase 1 for one task, in memory: read and clean its inputs, fingerprint the kept documents."""

    ruleset: RuleSet
    settings: Settings
    known_inputs: frozenset[str] = frozenset()  # sha256 of inputs an earlier run saw (--state)
    _cleaner: DocumentCleaner | None = field(default=None, init=False, repr=False)
    _streams: OpenStreams = field(default_factory=OpenStreams, init=False, repr=False)
    _shapes: LineShapes | None = field(default=None, init=False, repr=False)
    _tokenizer: Tokenizer | None = field(default=None, init=False, repr=False)

    def __call__(self, task: Task) -> TaskResult:
        if self._cleaner is None:
            self._cleaner = DocumentCleaner(self.ruleset, self.settings.stages)
        result = TaskResult(task.index)
        kept: list[Cleaned] = []
        for item in task.files:
            report = InputReport(item.source_name, item.relative)
            result.inputs.append(report)
            cleaned = self._read(item, report, task.part, task.digest)
            result.documents += [DocResult.from_cleaned(c) for c in cleaned]
            kept += [c for c in cleaned if c.rejection is None]
        result.bytes_read = task.size
        result.stages = self._cleaner.take_stats()
        if self.settings.dedup is not None:
            self._shapes, self._tokenizer = self._shapes or LineShapes(), self._tokenizer or Tokenizer()
            result.dedup = _fingerprints(kept, self.settings.dedup, self._shapes, self._tokenizer)
        return result

    def _read(self, item: InputFile, report: InputReport, part: Part | None,
              digest: tuple[str, int] | None) -> list[Cleaned]:
        assert self._cleaner is not None
        documents: list[Cleaned] = []
        try:
            if item.error is not None:  # a directory discovery could not list: report why
                raise ReadError(item.error)
            whole = None if digest is not None else read_whole(item, self.settings.read)
            report.sha256, report.size = digest or file_digest(item.path, whole)
            if report.sha256 in self.known_inputs:
                report.unchanged = True
                return []
            for document in read_input(item, self.settings.read, report.errors.append,
                                       (report.sha256, report.size), part, whole, self._streams):
                documents.append(self._cleaner.clean(document))
        except (OSError, ReadError) as exc:
            report.errors.append(_one_line(exc, item))
            documents = []  # a file that failed part-way is skipped whole, never half-cleaned
        if report.errors and self.settings.on_error == "fail":
            raise InputFailure(report.errors[0])
        return documents


@dataclass
class TaskWorker:
    """Runs phase 1 for tasks inside one worker (a local process or a Ray actor) and spills each
    task's results to the work location itself."""

    ruleset: RuleSet
    settings: Settings
    work: str  # the work location: a local directory or an fsspec URL (see cleaner.storage)
    known_inputs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._tasks = TaskCleaner(self.ruleset, self.settings, self.known_inputs)

    def __call__(self, task: Task) -> TaskSummary:
        return spill(self.work, self._tasks(task))


def spill(work: str, result: TaskResult) -> TaskSummary:
    """Write a task's result where phase 2 reads it; only the small summary travels on."""
    summary = TaskSummary.of(result)
    write_result(work, result, summary)
    return summary


def _fingerprints(kept: list[Cleaned], settings: DedupSettings, shapes: LineShapes, tokenizer: Tokenizer) -> DedupBatch:
    """Dedup fingerprints of the task's kept documents, in one batched call, with their sites
    and which of their lines look like boilerplate."""
    paragraphs = [_paragraphs(c) for c in kept]
    refs = np.array([ref for doc in paragraphs for ref, _ in doc], dtype=np.int64).reshape(-1, len(REF_COLUMNS))
    texts = [[text for _, text in doc] for doc in paragraphs]
    like = [flag for c, doc in zip(kept, texts)
            for flag in shapes.flags(doc, c.lang, settings.recurring_max_words, settings.short_max_chars)]
    return DedupBatch([c.document.id for c in kept], [c.document.source.path for c in kept],
                      [site_key(c.document.source) for c in kept], refs, np.array(like, dtype=bool),
                      fingerprint_batch(texts, settings, tokenizer))


def _paragraphs(cleaned: Cleaned) -> list[tuple[tuple[int, int, int, int, int], str]]:
    """Dedup units: the kept non-blank lines, with where they sit (DedupBatch.refs columns; the
    span excludes the line break)."""
    return [((i, line.number, line.number, line.start, line.content_end), line.text)
            for i, (line, claim) in enumerate(zip(cleaned.lines, cleaned.claims))
            if claim is None and not line.blank]


def _one_line(exc: BaseException, item: InputFile) -> str:
    """The failure as one line that names the input by the path it has in the output."""
    if isinstance(exc, OSError):
        return f"{item.relative}: {exc.strerror or type(exc).__name__}"
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message.replace(str(item.path), item.relative)


def added_timestamp() -> str:
    """When this run wrote its output (see run_clock)."""
    return run_moment().strftime("%Y-%m-%dT%H:%M:%SZ")


def run(inputs: list[str], out: Path, ruleset: RuleSet, settings: Settings, **options: Any) -> RunStats:
    """`run_uncommitted`, then its state's commit: for an OUT that is in place when the run
    returns (a local one)."""
    stats, commit = run_uncommitted(inputs, out, ruleset, settings, **options)
    commit()
    return stats


def run_uncommitted(inputs: list[str], out: Path, ruleset: RuleSet, settings: Settings, *, force: bool = False,
                    state: str | os.PathLike[str] | None = None, resume: bool = False, progress: bool = False,
                    guards: Guards | None = None, work_dir: str | None = None,
                    records_to: str | None = None) -> tuple[RunStats, Callable[[], None]]:
    """Clean every input into OUT; OUT changes only if the run succeeds. Returns the run's
    stats and what moves the --state on, for the caller to call once OUT is in place.

    With `state` (a directory or an fsspec URL, read and written where it is), inputs an
    earlier run saw are skipped, new paragraphs are deduplicated against everything indexed
    before, and this run's files are written into the state uncommitted. The commit comes only
    after OUT is in place, published included (`remote.published` uploads a URL OUT after this
    returns), so a failure in between re-cleans those inputs next time rather than losing them;
    a run that fails leaves the state as it was. With `resume`, tasks an interrupted run
    finished (same inputs, rules, settings and state) are not redone. `guards` refuse to
    replace OUT when the run would remove far more than expected. `work_dir` is where workers
    keep the run's intermediate files, when not beside OUT (a URL every machine of a cluster
    reaches; see `workdir`). `records_to` is where workers write the output shards and texts
    when OUT is published from a store's staging prefix (see `remote.published`) rather than
    from OUT's local staging directory.
    """
    started = time.perf_counter()
    files = discover(inputs, settings.glob)
    check_output(out, sorted({f.root for f in files}), force)
    dedup_state = _load_state(state, settings)
    stats = RunStats()
    work = WorkDir(out, work_dir)
    commit: Callable[[set[str]], None] | None = None
    try:
        with StagedOutput(out) as staging:  # holds OUT's lock, so no other run uses the work directory
            with ExitStack() as engine_scope:
                engine = None
                if settings.engine == "ray":  # imported here: Ray is an optional extra
                    from cleaner.engines.ray import RayEngine

                    engine = engine_scope.enter_context(RayEngine(settings.ray_address, settings.workers))
                tasks = plan_tasks(files, settings, engine)
                finished = work.prepare(_work_key(tasks, ruleset, settings, dedup_state), resume)
                todo = [task for task in tasks if task.index not in finished]
                dedup_bytes = array("q", [0]) * len(tasks)  # per task: sizes the dedup's ranges and tasks
                for index, summary in finished.items():
                    dedup_bytes[index] = summary.dedup_bytes
                stats.tasks_resumed = len(tasks) - len(todo)
                known = frozenset(dedup_state.inputs) if dedup_state is not None else frozenset()
                with progress_bar(sum(task.size for task in todo), "cleaning", progress) as bar:
                    documents = 0
                    stage_counts: dict[str, StageStats] = {}  # of the tasks cleaned now (not resumed)

                    def advance(summary: TaskSummary) -> None:
                        nonlocal documents
                        documents += summary.documents
                        dedup_bytes[summary.index] = summary.dedup_bytes
                        for name, counts in summary.stages.items():
                            stage_counts.setdefault(name, StageStats()).add(counts)
                        bar.set_postfix(kept=documents, refresh=False)
                        bar.update(summary.bytes_read)

                    _map(engine, partial(TaskWorker, ruleset, settings, work.path, known),
                         [_absolute(t) for t in todo] if engine is not None else todo, settings.workers, advance)
                phase1 = time.perf_counter()
                spread = engine.spread if engine is not None else None
                found = _deduplicate(tasks, dedup_bytes, work.path, settings, dedup_state, spread)
                deduplicated = time.perf_counter()
                if found is not None:
                    stats.extra["duplicates"] = _duplicate_stats(found[0])
                    commit = found[1]
                with progress_bar(len(tasks), "writing", progress, unit="task") as bar:
                    inputs_seen = _write_outputs(staging, tasks, work.path, ruleset, settings, stats, bar.update, engine,
                                                 records_to)
            check_guards(stats, guards)
            _write_json(staging / "manifest.json", {
                "generator": GENERATOR,
                "version": __version__,
                "inputs": inputs_seen,
                "settings": settings.to_json(),
                "rules": {"digest": ruleset.digest, "packs": list(ruleset.packs)},
                "state": os.fspath(state) if state is not None else None,
                "counts": stats.to_json()["documents"],
                "stages": {name: asdict(counts) for name, counts in stage_counts.items()},
                "timings": {"phase1_seconds": round(phase1 - started, 3), "dedup_seconds": round(deduplicated - phase1, 3),
                            "total_seconds": round(time.perf_counter() - started, 3),
                            "tasks": len(tasks), "tasks_resumed": stats.tasks_resumed},
            })
            work.remove()  # still under the lock: a run that starts next cannot lose its new work directory
    except BaseException:
        if dedup_state is not None:
            dedup_state.collect()  # this run's files in the state, never committed
        raise
    if commit is None:
        return stats, lambda: None
    return stats, partial(commit, {entry["sha256"] for entry in inputs_seen if entry.get("sha256")})


def _work_key(tasks: list[Task], ruleset: RuleSet, settings: Settings, state: DedupState | None) -> str:
    """What phase-1 results depend on: inputs as they are on disk, rules, settings, the state
    (its index, which changes with every commit)."""
    inputs = [[f.source_name, f.relative, *_stat(f.path)] for task in tasks for f in task.files]
    ranges = [[type(task.part).__name__, *astuple(task.part)] for task in tasks if task.part is not None]
    # The shipped line model is data like the rules: a retrained model must not reuse old results.
    model = [*_stat(default_model_path())] if settings.stages.classifier.enabled else None
    return work_key({"inputs": inputs, "tasks": [len(t.files) for t in tasks], "ranges": ranges, "rules": ruleset.digest,
                     "settings": settings.to_json(), "state": state.index if state is not None else None,
                     "model": model})


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return info.st_size, info.st_mtime_ns


def _load_state(state: str | os.PathLike[str] | None, settings: Settings) -> DedupState | None:
    if state is None:
        return None
    if settings.dedup is None:
        raise StateError(f"{os.fspath(state)}: --state keeps the dedup index, so it needs dedup on (drop --no-dedup)")
    return DedupState.open(state, settings.dedup)


def _deduplicate(tasks: list[Task], dedup_bytes: Sequence[int], work: str, settings: Settings,
                 state: DedupState | None, spread: Spread | None = None
                 ) -> tuple[DedupStats, Callable[[set[str]], None] | None] | None:
    """Deduplicate every task's kept documents (sharded steps over files, run through `spread`
    or local processes) and leave each task's decisions beside its spill files for the writers
    (every task gets a file, empty without dedup), so the driver holds no decisions while the
    output is written. Returns the stats and, with a state, what commits this run to it (once
    OUT is in place).

    The steps' files go to `<work>/dedup`, a local directory or a URL like the rest of the work
    location (see `dedup/arrays.py`); a state's new run is written where the state is.
    `dedup_bytes` (each task's dedup batch, from its summary) sets the number of hash ranges
    and which consecutive tasks the dedup reads as one (`group_tasks`).
    """
    if settings.dedup is None:
        for task in tasks:
            write_decisions(work, task.index, None)
        return None
    scratch = storage.join(work, "dedup")
    storage.remove_tree(scratch)  # an interrupted run's
    if state is not None and state.bits is not None:
        bits = state.bits
    else:
        bits = range_bits(sum(dedup_bytes), STATE_BITS if state is not None else 0)
    out = state.new_run() if state is not None else None
    with ExitStack() as scope:
        if spread is None:
            spread = scope.enter_context(process_spread(settings.workers))
        found, job = deduplicate(group_tasks(list(dedup_bytes)), partial(read_dedup, work),
                                 partial(write_decisions, work), scratch, settings.dedup, spread, bits,
                                 state.prior() if state is not None else None, out)
        commit = partial(state.commit, job, state.compact(job, spread)) if state is not None else None
    storage.remove_tree(scratch)
    return found, commit


def _duplicate_stats(found: DedupStats) -> dict[str, Any]:
    """The dedup engine's counts in the shape stats.json and the report use."""
    return {
        "clusters": found.clusters,
        "cluster_sizes": found.cluster_sizes,
        "paragraphs": found.exact_paragraphs + found.near_paragraphs,
        "chars": found.exact_chars + found.near_chars,
        "by_kind": {"exact": {"paragraphs": found.exact_paragraphs, "chars": found.exact_chars},
                    "near": {"paragraphs": found.near_paragraphs, "chars": found.near_chars}},
        "recurring_lines": found.recurring_lines,
        "recurring_chars": found.recurring_chars,
        "recurring_texts": found.recurring_texts,
        "duplicate_documents": found.duplicate_documents,
        "candidate_pairs": found.candidate_pairs,
        "verified_pairs": found.candidate_pairs_linked,
        "paragraphs_indexed": found.paragraphs,
    }


def _write_outputs(staging: Path, tasks: list[Task], work: str, ruleset: RuleSet, settings: Settings,
                   stats: RunStats, on_task: Callable[[int], object], engine: RayEngine | None = None,
                   records_to: str | None = None) -> list[dict[str, Any]]:
    """Phase 2's writing: every spilled document, with its dedup decision, into the staged output.

    Workers build each task's records (see `TaskRecordWriter`), write them to part files in the
    work location and the clean texts under OUT/text, and return the task's counts; the driver
    merges those in task order. Then workers cut the parts into the output shards (see
    `writers.assemble`). Shards and texts go to `records_to` when given, else to `staging`;
    stats.json always goes to `staging`. Returns the manifest's list of inputs, with the hash
    and size of the bytes actually read.
    """
    target = records_to or str(staging.absolute())  # Ray workers do not share the driver's working directory
    inputs_seen: list[dict[str, Any]] = []
    record_settings = RecordSettings(
        added=added_timestamp(),
        pipeline={"cleaner": __version__, "rules_digest": ruleset.digest, "settings": settings.to_json()},
        text_root=storage.join(target, "text") if "txt" in settings.formats else None,
    )
    records = {part: array("q") for part in PARTS}  # records per task, in task order: 8 bytes a task
    waiting: dict[int, WrittenTask] = {}
    position = 0

    def merge_in_order(written: WrittenTask) -> None:
        nonlocal position
        waiting[written.index] = written
        while position < len(tasks) and tasks[position].index in waiting:
            task = tasks[position]
            done = waiting.pop(task.index)
            _merge_task(task, done, stats, inputs_seen)
            for part in PARTS:
                records[part].append(done.records[part])
            position += 1
            on_task(1)

    _map(engine, partial(TaskRecordWriter, work, record_settings), [task.index for task in tasks], settings.workers,
         merge_in_order)
    formats = tuple(kind for kind in settings.formats if kind in SHARDED_FORMATS)
    if formats:
        jobs = (job for part in PARTS
                for job in plan_shards(part, zip((task.index for task in tasks), records[part]), settings.shard_size))
        _map(engine, partial(ShardAssembler, work, target, formats, settings.compress, settings.shard_size),
             jobs, settings.workers, lambda _: None)
    _write_json(staging / "stats.json", stats.to_json())
    return inputs_seen


def _merge_task(task: Task, written: WrittenTask, stats: RunStats, inputs_seen: list[dict[str, Any]]) -> None:
    """One written task's counts and inputs into the run's."""
    for report in written.inputs:
        for message in report.errors:
            stats.error(report.path, message)
        previous = inputs_seen[-1] if inputs_seen else None
        if task.continues and previous is not None:
            if report.errors:  # another part of the file the previous entry names
                previous.setdefault("errors", []).extend(report.errors)
            continue
        stats.unchanged_inputs += report.unchanged
        inputs_seen.append(report.to_json())
    stats.merge(written.stats)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
