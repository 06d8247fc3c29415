"""Generic boilerplate classifier: share of boilerplate removed and content kept, and its cost.

The labelled fixtures (tests/fixtures/generic/{tune,heldout}/*.txt, each line 'B| ' boilerplate
or 'C| ' content) are scored per set and per site; the cost is the time per document of
classify() alone (language detection excluded). --quick (or BENCH_QUICK=1) times fewer runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaner.document import Cleaned, Document, Source  # noqa: E402
from cleaner.filters.generic import classify, load_generic_config  # noqa: E402
from cleaner.filters.language import LanguageDetection, make_detector  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "generic"


def load(path: Path) -> tuple[str, list[str | None]]:
    rows = path.read_text(encoding="utf-8").splitlines()
    labels = [row[0] if row[1:3] == "| " else None for row in rows]
    return "\n".join(row[3:] if row[1:3] == "| " else row for row in rows) + "\n", labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    args = parser.parse_args()
    repeats = 5 if args.quick else 100
    config = load_generic_config()
    detector = make_detector()
    docs: list[tuple[Cleaned, str]] = []
    for folder in ("tune", "heldout"):
        totals = [0, 0, 0, 0]  # boilerplate, removed, content, kept
        for path in sorted((FIXTURES / folder).glob("*.txt")):
            text, labels = load(path)
            source = Source(path.name, "bench", "0" * 64, len(text.encode()), "txt")
            doc = Cleaned.start(Document(path.stem, text, source))
            LanguageDetection(detector).apply(doc)
            docs.append((doc, doc.lang))
            done = Cleaned.start(doc.document)
            done.lang = doc.lang
            classify(done, config)
            site = [0, 0, 0, 0]
            for label, claim in zip(labels, done.claims):
                if label == "B":
                    site[0] += 1
                    site[1] += claim is not None
                elif label == "C":
                    site[2] += 1
                    site[3] += claim is None
            totals = [a + b for a, b in zip(totals, site)]
            print(f"  {folder}/{path.name:<26} boilerplate removed {site[1]:>2}/{site[0]:<2} content kept {site[3]:>2}/{site[2]}")
        print(
            f"{folder}: boilerplate removed {totals[1]}/{totals[0]} = {totals[1] / totals[0]:.1%}, "
            f"content kept {totals[3]}/{totals[2]} = {totals[3] / totals[2]:.1%}\n"
        )
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for doc, lang in docs:
            fresh = Cleaned.start(doc.document)
            fresh.lang = lang
            classify(fresh, config)
        best = min(best, time.perf_counter() - start)
    size = sum(len(doc.document.text.encode()) for doc, _ in docs)
    print(f"cost: {best / len(docs) * 1000:.3f} ms/doc, {size / best / 1e6:.2f} MB/s")


if __name__ == "__main__":
    main()
