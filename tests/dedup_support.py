"""Helpers shared by the dedup tests: build documents from paragraphs and run phase 1 + 2."""

from __future__ import annotations

import random

from cleaner.dedup import Deduplicator, DedupSettings, DocumentDecision, ParagraphRef, fingerprint
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


def refs(text: str) -> tuple[list[ParagraphRef], list[str]]:
    lines = [line for line in segment(text)]
    kept = [(i, line) for i, line in enumerate(lines) if not line.blank]
    return [ParagraphRef(i, l.number, l.number, l.start, l.content_end) for i, l in kept], [l.text for _, l in kept]


def run(docs: list[tuple[str, list[str]]], settings: DedupSettings | None = None, state=None) -> tuple[dict[str, DocumentDecision], Deduplicator]:
    """Deduplicate documents given as (id, paragraphs); the path is id + '.txt'."""
    settings = settings or DedupSettings()
    dedup = Deduplicator(settings, state)
    for doc_id, paragraphs in docs:
        paragraph_refs, texts = refs("\n".join(paragraphs))
        dedup.add(doc_id, f"{doc_id}.txt", paragraph_refs, fingerprint(texts, settings))
    return dedup.resolve().by_document(), dedup


def removed(decisions: dict[str, DocumentDecision], doc_id: str) -> dict[int, tuple[str, dict]]:
    """line_index -> (rule, detail) of a document's removals."""
    if doc_id not in decisions:
        return {}
    return {i: (c.rule, c.detail) for i, c in decisions[doc_id].removals}
