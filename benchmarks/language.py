"""Accuracy and cost of the language detectors (cld2, langdetect, py3langid), per article and per paragraph.

Data: the project's seed articles (German), the labelled generic fixtures (content lines of
German and English news dumps, the language is in the file name), and hand-written German and
English news paragraphs (tests/fixtures/language/paragraphs.tsv, including sentences full of
foreign names and titles). Run with --quick (or BENCH_QUICK=1) for a short version.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaner.document import Cleaned, Document, Source  # noqa: E402
from cleaner.filters.language import DETECTORS, LanguageDetection, make_detector  # noqa: E402


def _cleaned(text: str, name: str) -> Cleaned:
    return Cleaned.start(Document(name, text, Source(name, "bench", "0" * 64, len(text.encode()), "txt")))


def corpus() -> tuple[list[tuple[str, Cleaned]], list[tuple[str, str]]]:
    """(articles as (lang, Cleaned), paragraphs as (lang, text))."""
    articles: list[tuple[str, Cleaned]] = []
    paragraphs: list[tuple[str, str]] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        articles.append(("de", _cleaned(text, path.name)))
        # Seeds carry boilerplate (English job titles among them): only their sentences count.
        paragraphs += [("de", line) for line in text.splitlines() if len(line.split()) >= 5 and line.endswith((".", "“", '"'))]
    for path in sorted((ROOT / "tests" / "fixtures" / "generic").glob("*/*.txt")):
        lang = path.name[:2]
        content = [raw[3:] for raw in path.read_text(encoding="utf-8").splitlines() if raw.startswith("C| ")]
        articles.append((lang, _cleaned("\n".join(content), path.name)))
        paragraphs += [(lang, line) for line in content if len(line.split()) >= 5]
    for raw in (ROOT / "tests" / "fixtures" / "language" / "paragraphs.tsv").read_text(encoding="utf-8").splitlines():
        lang, text = raw.split("\t")
        paragraphs.append((lang, text))
    return articles, paragraphs


def bucket(text: str) -> str:
    words = len(text.split())
    return "5-9 words" if words < 10 else "10-19 words" if words < 20 else "20+ words"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    args = parser.parse_args()
    repeats = 3 if args.quick else 20
    articles, paragraphs = corpus()
    print(f"data: {len(articles)} articles, {len(paragraphs)} paragraphs; {repeats} timing repeats")
    answers: dict[str, list[str]] = {}
    for name in sorted(DETECTORS):
        start = time.perf_counter()
        detector = make_detector(name)
        load = time.perf_counter() - start

        article_times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _, doc in articles:
                LanguageDetection(detector).apply(doc)
            article_times.append((time.perf_counter() - start) / len(articles))
        article_right = 0
        for lang, doc in articles:
            LanguageDetection(detector).apply(doc)
            article_right += doc.lang == lang

        paragraph_times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _, text in paragraphs:
                detector.detect(text)
            paragraph_times.append((time.perf_counter() - start) / len(paragraphs))
        answers[name] = [detector.detect(text)[0] for _, text in paragraphs]
        by_bucket: dict[str, list[bool]] = {}
        for (lang, text), got in zip(paragraphs, answers[name]):
            by_bucket.setdefault(bucket(text), []).append(got == lang)

        print(f"\n{name}: model load {load * 1000:.0f} ms")
        print(f"  articles:   {article_right}/{len(articles)} right, {min(article_times) * 1000:.2f} ms/article")
        print(f"  paragraphs: {sum(answers[name][i] == lang for i, (lang, _) in enumerate(paragraphs))}/{len(paragraphs)} right, "
              f"{min(paragraph_times) * 1000:.3f} ms/paragraph")
        for key in ("5-9 words", "10-19 words", "20+ words"):
            hits = by_bucket.get(key, [])
            if hits:
                print(f"    {key:<12} {sum(hits)}/{len(hits)} right")
        wrong = [(lang, got, text) for (lang, text), got in zip(paragraphs, answers[name]) if got != lang]
        for lang, got, text in wrong:
            print(f"    wrong: expected {lang}, got {got}: {text[:70]}")

    names = sorted(answers)
    for first, second in itertools.combinations(names, 2):
        for key in ("5-9 words", "10-19 words", "20+ words"):
            pairs = [(a, b) for (_, text), a, b in zip(paragraphs, answers[first], answers[second]) if bucket(text) == key]
            if pairs:
                print(f"\nagreement {first} vs {second}, {key}: {sum(a == b for a, b in pairs)}/{len(pairs)}", end="")
    print()


if __name__ == "__main__":
    main()
