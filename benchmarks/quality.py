"""Cost of the document quality heuristics: ms per document and MB/s of kept text.

Documents: the seed articles, and long documents of sentences drawn (seeded, so repeatable) from
the seeds' words, without repeated lines, so that every heuristic runs to the end (the cost of
the n-gram heuristics grows with length, so both sizes are shown). Both shipped presets are timed;
training.toml turns every heuristic on. Run with --quick (or BENCH_QUICK=1) for a short version.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaner.document import Cleaned, Document, Source  # noqa: E402
from cleaner.filters.quality import judge, load_quality_config, preset_path  # noqa: E402


def _cleaned(text: str, name: str) -> Cleaned:
    doc = Cleaned.start(Document(name, text, Source(name, "bench", "0" * 64, len(text.encode()), "txt")))
    doc.lang = "de"
    return doc


def _long_text(seeds: list[str], rng: random.Random, size: int = 170_000) -> str:
    words = " ".join(seeds).split()
    lines: list[str] = []
    while sum(map(len, lines)) < size:
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(8, 60))) + ".")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    args = parser.parse_args()
    repeats = 5 if args.quick else 50
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    sets = {
        "seed articles": [_cleaned(text, str(i)) for i, text in enumerate(seeds)],
        "long documents (~170 KiB)": [_cleaned(_long_text(seeds, random.Random(i)), f"long{i}") for i in range(3)],
    }
    for preset in ("default", "training"):
        config = load_quality_config(preset_path(preset))
        for label, docs in sets.items():
            size = sum(len(doc.document.text.encode()) for doc in docs)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                for doc in docs:
                    judge(doc, config)
                times.append(time.perf_counter() - start)
            best = min(times)
            print(
                f"{preset:<8} {label:<31} {len(docs)} docs, {size / len(docs) / 1024:6.1f} KiB/doc: "
                f"{best / len(docs) * 1000:7.3f} ms/doc, {size / best / 1e6:6.2f} MB/s"
            )


if __name__ == "__main__":
    main()
