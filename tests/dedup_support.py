"""Helpers shared by the dedup tests: build documents from paragraphs and run phase 1 + 2."""

from __future__ import annotations

import pickle
import random
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.dedup import DedupBatch, DedupSettings, DedupState, DocumentDecision, deduplicate, fingerprint_batch
from cleaner.dedup.components import Spread, in_process
from cleaner.dedup.decisions import Decisions
from cleaner.dedup.records import DedupStats
from cleaner.dedup.shape import LineShapes
from cleaner.document import segment
from cleaner.spill import read_decisions, read_dedup, spill_path, write_decisions


def _letters(number: int) -> str:
    """A number spelled in letters, since normalisation maps every digit to 0."""
    out = ""
    while True:
        number, digit = divmod(number, 26)
        out += chr(ord("a") + digit)
        if not number:
            return out


def words(seed: int, n: int) -> list[str]:
    """n distinct pseudo-words, different for each seed."""
    rng = random.Random(seed)
    return [f"{rng.choice(['haus', 'wald', 'river', 'stone', 'licht', 'cloud'])}{_letters(seed)}q{_letters(i)}" for i in range(n)]


def mutate(text: str, positions: list[int], tag: str) -> str:
    """Replace the words at these positions, each change killing ngram shingles."""
    out = text.split()
    for p in positions:
        out[p] = f"{tag}{_letters(p)}"
    return " ".join(out)


def refs(text: str) -> tuple[list[tuple[int, int, int, int, int]], list[str]]:
    """A document's dedup units as the pipeline makes them: kept non-blank lines, where they sit."""
    lines = [line for line in segment(text)]
    kept = [(i, line) for i, line in enumerate(lines) if not line.blank]
    return [(i, l.number, l.number, l.start, l.content_end) for i, l in kept], [l.text for _, l in kept]


def batch(docs: list[tuple[str, list[str]]], settings: DedupSettings, sites: list[str] | None = None,
          lang: str = "en") -> DedupBatch:
    """Phase 1's DedupBatch for documents given as (id, paragraphs), each on its own line; the
    path is id + '.txt', the site "dir:" unless given."""
    units = [refs("\n".join(paragraphs)) for _, paragraphs in docs]
    texts = [t for _, t in units]
    shapes = LineShapes()
    like = [f for t in texts for f in shapes.flags(t, lang, settings.recurring_max_words, settings.short_max_chars)]
    rows = np.array([r for r, _ in units for r in r], dtype=np.int64).reshape(-1, 5)
    return DedupBatch([d for d, _ in docs], [f"{d}.txt" for d, _ in docs], sites or ["dir:"] * len(docs), rows,
                      np.array(like, dtype=bool), fingerprint_batch(texts, settings))


def dedup_tasks(tasks: list[DedupBatch | None], settings: DedupSettings | None = None, state: Path | None = None,
                inputs: set[str] | None = None, bits: int = 0, spread: Spread = in_process,
                group: int = 1) -> tuple[list[Decisions], DedupStats]:
    """Phase 2 as the pipeline runs it over these tasks' spilled batches: each task's decisions
    and the stats. With `state` (a directory), against it, and committed to it after. `group`
    phase-1 tasks make one dedup task."""
    settings = settings or DedupSettings()
    with tempfile.TemporaryDirectory() as work:
        spill = Path(work)
        for task, found in enumerate(tasks):
            Path(spill_path(spill, task, "dedup")).write_bytes(pickle.dumps(found))
        opened = DedupState.open(state, settings) if state is not None else None
        if opened is not None and opened.bits is not None:
            bits = opened.bits
        units = [range(first, min(first + group, len(tasks))) for first in range(0, len(tasks), group)]
        stats, job = deduplicate(units, partial(read_dedup, spill), partial(write_decisions, spill),
                                 str(spill / "dedup"), settings, spread, bits,
                                 opened.prior() if opened is not None else None,
                                 opened.new_run() if opened is not None else None)
        if opened is not None:
            opened.commit(job, opened.compact(job, spread), inputs or set())
        return [read_decisions(spill, task) for task in range(len(tasks))], stats


def run(docs: list[tuple[str, list[str]]], settings: DedupSettings | None = None, state: Path | None = None,
        sites: list[str] | None = None, inputs: set[str] | None = None) -> tuple[dict[str, DocumentDecision], DedupStats]:
    """Deduplicate documents given as (id, paragraphs), one task's batch; the path is id + '.txt'.
    With `state` (a directory), against it, and committed to it after."""
    settings = settings or DedupSettings()
    found, stats = dedup_tasks([batch(docs, settings, sites) if docs else None], settings, state, inputs)
    return found[0].by_document(), stats


def removed(decisions: dict[str, DocumentDecision], doc_id: str) -> dict[int, tuple[str, dict]]:
    """line_index -> (rule, detail) of a document's removals."""
    if doc_id not in decisions:
        return {}
    return {i: (c.rule, c.detail) for i, c in decisions[doc_id].removals}


def scrambled(function: Callable[..., Any], calls: Iterable[tuple[Any, ...]], shared: tuple[Any, ...]) -> Iterator[Any]:
    """A spread that runs the calls last to first, as a cluster might finish them."""
    todo = list(calls)
    results = [function(*shared, *arguments) for arguments in reversed(todo)]
    yield from reversed(results)
