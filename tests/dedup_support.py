"""Helpers shared by the dedup tests: build documents from paragraphs and run phase 1 + 2."""

from __future__ import annotations

import random

import numpy as np

from cleaner.dedup import DedupBatch, Deduplicator, DedupSettings, DocumentDecision, fingerprint_batch
from cleaner.dedup.shape import LineShapes
from cleaner.document import segment


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


def run(docs: list[tuple[str, list[str]]], settings: DedupSettings | None = None, state=None,
        sites: list[str] | None = None) -> tuple[dict[str, DocumentDecision], Deduplicator]:
    """Deduplicate documents given as (id, paragraphs), one task's batch; the path is id + '.txt'."""
    settings = settings or DedupSettings()
    dedup = Deduplicator(settings, state)
    if docs:
        dedup.add_batch(batch(docs, settings, sites))
    return dedup.resolve().by_document(), dedup


def removed(decisions: dict[str, DocumentDecision], doc_id: str) -> dict[int, tuple[str, dict]]:
    """line_index -> (rule, detail) of a document's removals."""
    if doc_id not in decisions:
        return {}
    return {i: (c.rule, c.detail) for i, c in decisions[doc_id].removals}
