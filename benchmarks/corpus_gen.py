"""Deterministic benchmark corpus for dedup: Zipf-distributed German+English text with planted
near duplicates at known Jaccard similarities and planted recurring boilerplate lines.

Each document is a list of paragraphs (one line each). The truth records, for every planted
copy, the global paragraph number of the copy and of its source and the exact Jaccard of their
5-word shingle sets under cleaner's normalisation (computed here with plain Python sets, not
with the code under test). Run directly to print a summary: `python benchmarks/corpus_gen.py [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cleaner.dedup.normalize import normalize_text  # noqa: E402

GERMAN = (
    "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat "
    "dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis "
    "mehr durch man sein wurde sei prozent jahr jahren stadt menschen regierung zeit heute gegen unternehmen polizei "
    "millionen euro land deutschland schule kinder wasser straße kirche mannschaft spiel saison trainer verein "
    "bürgermeister gemeinde projekt entwicklung gesellschaft wirtschaft politik kultur geschichte musik wetter"
).split()
ENGLISH = (
    "the of and to a in is that for it as was with be by on not he this are or his from at which but have an "
    "they you were their one all we can her has there been if more when will would who so no people year city "
    "government company police school children water game season team council project development economy market "
    "history music weather report study health president minister court house street"
).split()
SYLLABLES = (
    "ber sch ung ein ver ge lich keit heit tra men ka ri to ne la mo de sta pro con tion ing er en an "
    "hal ter wer ken bau land haus zeit rot see berg feld dorf ment ness able ous ful"
).split()
BOILERPLATE = [
    "Teilen auf Facebook", "Jetzt Newsletter abonnieren", "Alle Rechte vorbehalten", "Mehr zum Thema",
    "Share this article", "Sign up for our newsletter", "Read more", "Kommentare anzeigen",
    "Foto: dpa", "Anzeige", "Lesen Sie auch", "Follow us on Twitter", "Zur Startseite",
    "Dieser Artikel erschien zuerst in der Printausgabe", "Copyright 2024 Media Group",
]
NGRAM = 5


def shingles(text: str) -> set[tuple[str, ...]]:
    words = normalize_text(text).split()
    return {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y) if x or y else 1.0


@dataclass
class Corpus:
    documents: list[list[str]] = field(default_factory=list)
    planted: list[tuple[int, int, float]] = field(default_factory=list)  # (copy, source, exact Jaccard)
    copied_documents: list[tuple[int, int]] = field(default_factory=list)  # (copy doc, source doc)

    @property
    def paragraphs(self) -> int:
        return sum(len(d) for d in self.documents)

    @property
    def bytes(self) -> int:
        return sum(len(p.encode()) for d in self.documents for p in d)


class _Writer:
    """Zipf-distributed words and sentences; scalar choices use random.Random (fast per call),
    word ids are drawn in bulk with numpy."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        np_rng = np.random.default_rng(seed)
        syllables = np.array(SYLLABLES, dtype=object)
        parts = np_rng.integers(0, len(SYLLABLES), size=(60000, 4))
        lengths = np_rng.integers(2, 5, size=60000)
        synthetic = {"".join(syllables[row[:n]]) for row, n in zip(parts, lengths)}
        self.vocab = list(dict.fromkeys(GERMAN + ENGLISH + sorted(synthetic)))
        weights = 1.0 / np.arange(1, len(self.vocab) + 1) ** 1.05
        cumulative = np.cumsum(weights / weights.sum())
        ids = np.minimum(np.searchsorted(cumulative, np_rng.random(1 << 22)), len(self.vocab) - 1)
        self.stream = ids.tolist()  # a long Zipf word-id stream, read cyclically from random offsets

    def words(self, n: int) -> list[str]:
        at = self.rng.randrange(len(self.stream) - n)
        vocab = self.vocab
        return [vocab[i] for i in self.stream[at : at + n]]

    def paragraph(self) -> str:
        rng = self.rng
        sentences = []
        for _ in range(rng.randint(1, 5)):
            words = self.words(rng.randint(4, 25))
            if rng.random() < 0.2:
                words.insert(rng.randrange(len(words)), str(rng.randint(1, 3000)))
            if len(words) > 8 and rng.random() < 0.4:
                words[rng.randrange(2, len(words) - 2)] += ","
            sentences.append(" ".join(words).capitalize() + rng.choice(".....!?"))
        return " ".join(sentences)

    def mutate(self, text: str, target: float) -> str:
        """Copy with changes aiming at the target Jaccard (the exact value is measured after)."""
        rng = self.rng
        words = text.split()
        if target >= 1.0:
            return text.upper() if rng.random() < 0.3 else text
        size = max(len(words) - NGRAM + 1, 1)
        for _ in range(max(1, round(size * (1 - target) / (NGRAM * (1 + target))))):
            at = rng.randrange(len(words))
            kind = rng.random()
            if kind < 0.7:
                words[at] = self.words(1)[0]
            elif kind < 0.85 and len(words) > NGRAM + 1:
                del words[at]
            else:
                words.insert(at, self.words(1)[0])
        return " ".join(words)


def generate(paragraphs: int, seed: int = 7, near_rate: float = 0.08, copy_doc_rate: float = 0.01) -> Corpus:
    writer = _Writer(seed)
    rng = writer.rng
    corpus = Corpus()
    flat: list[str] = []
    long_ids: list[int] = []  # candidates for planting: paragraphs with >= 20 words
    doc_start: list[int] = []
    while len(flat) < paragraphs:
        doc_no = len(corpus.documents)
        entries: list[tuple[str, int | None, float]] = []  # (text, planted source, Jaccard)
        if doc_no > 10 and rng.random() < copy_doc_rate:
            source = rng.randrange(doc_no)
            corpus.copied_documents.append((doc_no, source))
            entries = [(text, doc_start[source] + k, 1.0) for k, text in enumerate(corpus.documents[source])]
        else:
            for _ in range(rng.randint(5, 40)):
                if long_ids and rng.random() < near_rate:
                    source = long_ids[rng.randrange(len(long_ids))]
                    target = 1.0 if rng.random() < 0.15 else rng.uniform(0.5, 1.0)
                    text = writer.mutate(flat[source], target)
                    entries.append((text, source, jaccard(text, flat[source])))
                else:
                    entries.append((writer.paragraph(), None, 0.0))
            for _ in range(rng.randint(0, 2)):
                entries.insert(rng.randint(0, len(entries)), (rng.choice(BOILERPLATE), None, 0.0))
        doc_start.append(len(flat))
        for text, source, similarity in entries:
            if source is not None:
                corpus.planted.append((len(flat), source, similarity))
            if len(text.split()) >= 20:
                long_ids.append(len(flat))
            flat.append(text)
        corpus.documents.append([text for text, _, _ in entries])
    return corpus


def write_jsonl(corpus: Corpus, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i, doc in enumerate(corpus.documents):
            out.write(json.dumps({"id": f"doc{i:07d}", "paragraphs": doc}, ensure_ascii=False) + "\n")


def write_files(corpus: Corpus, root: Path) -> int:
    """One .txt file per document under `root` (created), as a dump of pages; returns the bytes."""
    root.mkdir()
    for i, document in enumerate(corpus.documents):
        (root / f"doc_{i:06d}.txt").write_text("\n".join(document) + "\n", encoding="utf-8")
    return corpus.bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--paragraphs", type=int)
    args = parser.parse_args()
    n = args.paragraphs or (20_000 if args.quick else 200_000)
    started = time.perf_counter()
    corpus = generate(n)
    seconds = time.perf_counter() - started
    sims = np.array([j for _, _, j in corpus.planted])
    print(f"{len(corpus.documents)} documents, {corpus.paragraphs} paragraphs, {corpus.bytes / 1e6:.1f} MB in {seconds:.1f} s")
    print(f"planted copies: {len(sims)}; Jaccard >= 0.8: {(sims >= 0.8).sum()}; histogram 0.5..1.0:")
    counts, edges = np.histogram(sims, bins=[0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1.01])
    print("  " + "  ".join(f"[{a:.2f},{b:.2f}): {c}" for a, b, c in zip(edges, edges[1:], counts)))


if __name__ == "__main__":
    main()
