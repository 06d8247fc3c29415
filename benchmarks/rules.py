"""How rule matching scales when packs grow from the shipped few dozen rules to hundreds.

Synthetic packs of realistic shapes (phrase lists, prefixes, regexes with guards, blocks, tails,
language- and site-scoped) are written to a temporary rules directory and loaded together with
the shipped packs. Each configuration cleans the same few MB of article dumps built from the
site fixtures and the seeds; the script prints lines/s and MB/s for the rule filter alone and
for the whole per-document phase (which also runs language detection), and the microseconds
the line index spends on each distinct line with and without its literal prefilter.

    python benchmarks/rules.py            # 3 MB, shipped vs +300 vs +1000 rules
    python benchmarks/rules.py --quick    # 0.2 MB, same configurations (or BENCH_QUICK=1)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import tempfile
import time
from pathlib import Path

from cleaner.document import Cleaned, Document, Source
from cleaner.filters.boilerplate import RuleFilter, line_views
from cleaner.filters.matching import LineIndex
from cleaner.rules.loader import RuleSet, load_rules
from cleaner.stages import DocumentCleaner

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "rules"
CORPUS_SOURCES = [*sorted((ROOT / "tests" / "fixtures" / "sites").glob("*/*.txt")), *sorted((ROOT / "seeds").glob("*.txt"))]

_SYLLABLES = ["ka", "ro", "ten", "mi", "sul", "bar", "ve", "lo", "qua", "dri", "nes", "tor", "al", "wen", "zu", "pha"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _phrase(rng: random.Random, words: int) -> str:
    return " ".join(_word(rng) for _ in range(words)).capitalize()


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join('"' + item.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"' for item in items) + "]"


def synthetic_rule(rng: random.Random, number: int) -> str:
    """One rule of a realistic shape, with the examples every rule must carry."""
    shape = rng.choices(["phrases", "prefixes", "pattern", "block", "tail"], weights=[35, 20, 35, 5, 5])[0]
    scope = rng.choices(["", 'languages = ["de"]\n', 'languages = ["en"]\n', f'markers = ["SITE-{number}"]\n'],
                        weights=[30, 30, 30, 10])[0]
    keep = "Der Ausschuss tagte am Montag drei Stunden lang und vertagte die Entscheidung auf Mai."
    phrases = [_phrase(rng, rng.randint(1, 4)) for _ in range(rng.randint(2, 8))]
    head = f'[[rule]]\nid = "bench.r{number}"\ncategory = "bench"\n{scope}'
    if shape == "phrases":
        body = f'kind = "line"\nphrases = {_toml_list(phrases)}\nmax_words = 12\n'
        remove = phrases[0]
    elif shape == "prefixes":
        body = f'kind = "line"\nprefixes = {_toml_list([p + ":" for p in phrases])}\nmax_words = 20\n'
        remove = phrases[0] + ": " + _phrase(rng, 3)
    elif shape == "pattern":
        first, second = _word(rng), _word(rng)
        pattern = rf".*\b(?:{first}|{_word(rng)})\b.*\b(?:{second}|{_word(rng)})\b(?:.*[^.])?"
        body = f"kind = \"line\"\npattern = '''{pattern}'''\nmax_words = {rng.choice([8, 16, 30, 60])}\n"
        remove = f"{first.capitalize()} jetzt {second}"
    elif shape == "block":
        body = f'kind = "block"\nphrases = {_toml_list(phrases)}\nmax_words = 10\n'
        remove = phrases[0] + "\n" + _phrase(rng, 4)
    else:
        body = f'kind = "tail"\nphrases = {_toml_list(phrases)}\nmax_words = 10\ntail_max_words = 40\n'
        remove = phrases[0] + "\n" + _phrase(rng, 5)
    return f"{head}{body}remove = {_toml_list([remove])}\nkeep = {_toml_list([keep])}\n"


def write_synthetic_pack(directory: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    text = "\n".join(synthetic_rule(rng, n) for n in range(count))
    (directory / "bench.toml").write_text('[pack]\ndescription = "synthetic benchmark rules"\n\n' + text,
                                          encoding="utf-8")


def build_corpus(target_bytes: int) -> list[Document]:
    """Article dumps repeated up to the target size; a numbered line keeps documents distinct."""
    texts = [path.read_text(encoding="utf-8") for path in CORPUS_SOURCES]
    documents: list[Document] = []
    size = 0
    while size < target_bytes:
        text = texts[len(documents) % len(texts)] + f"\nArtikel {len(documents)}\n"
        data = text.encode("utf-8")
        source = Source(path=f"doc{len(documents)}.txt", root="bench", size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), format="txt")
        documents.append(Document(str(len(documents)), text, source))
        size += len(data)
    return documents


def time_rule_filter(ruleset: RuleSet, documents: list[Document], languages: list[str]) -> tuple[float, float]:
    """Seconds for the rule filter alone (language given): the first pass, which compiles each
    scope's alternations, and a second, warm pass, which is what a long run sees per document."""
    rule_filter = RuleFilter(ruleset)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        for document, lang in zip(documents, languages):
            cleaned = Cleaned.start(document)
            rule_filter.apply(cleaned, rule_filter.applicable(cleaned, lang))
        timings.append(time.perf_counter() - started)
    return timings[0], timings[1]


def time_unique_lines(ruleset: RuleSet, documents: list[Document], languages: list[str],
                      prefilter: bool) -> tuple[int, float]:
    """Distinct lines and the seconds to judge each once, the cost the verdict memo cannot save:
    in a real corpus most lines occur once. Indexes are built and their alternations compiled
    by a first pass, so the timed pass measures matching alone."""
    rule_filter = RuleFilter(ruleset)
    scopes = [rule_filter.applicable(Cleaned.start(d), lang) for d, lang in zip(documents, languages)]
    elapsed = 0.0
    for timed in (False, True):
        indexes: dict[tuple[str, ...], LineIndex] = {}
        seen: set[str] = set()
        for document, rules in zip(documents, scopes):
            key = tuple(rule.id for rule in rules)
            index = indexes.get(key) or indexes.setdefault(key, LineIndex(rules, prefilter=prefilter))
            cleaned = Cleaned.start(document)
            views = [view for view in line_views(cleaned) if view.stripped not in seen]
            seen.update(view.stripped for view in views)
            started = time.perf_counter()
            for view in views:
                index.first(view, cleaned)
            if timed:
                elapsed += time.perf_counter() - started
    return len(seen), elapsed


def time_document_cleaner(ruleset: RuleSet, documents: list[Document]) -> tuple[float, list[str]]:
    """Seconds for a warm pass of the whole per-document phase, and the languages it found."""
    cleaner = DocumentCleaner(ruleset)
    languages = [cleaner.clean(document).lang for document in documents]  # warm-up: compiles
    started = time.perf_counter()
    for document in documents:
        cleaner.clean(document)
    return time.perf_counter() - started, languages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                        help="0.2 MB instead of 3 MB")
    parser.add_argument("--mb", type=float, help="corpus size in MB (overrides --quick)")
    args = parser.parse_args()
    megabytes = args.mb or (0.2 if args.quick else 3.0)
    documents = build_corpus(int(megabytes * 1_000_000))
    total_bytes = sum(len(d.text.encode("utf-8")) for d in documents)
    total_lines = sum(d.text.count("\n") + 1 for d in documents)
    print(f"corpus: {len(documents)} documents, {total_lines} lines, {total_bytes / 1e6:.2f} MB")
    print(f"{'rules':>7} {'load s':>7} {'warm-up s':>9} {'filter lines/s':>15} {'filter MB/s':>12} "
          f"{'clean lines/s':>14} {'clean MB/s':>11} {'unique us/line':>15} {'no prefilter':>13}")
    languages: list[str] | None = None
    for extra in (0, 300, 1000):
        with tempfile.TemporaryDirectory() as tmp:
            directories = [SHIPPED]
            if extra:
                write_synthetic_pack(Path(tmp), extra)
                directories.append(Path(tmp))
            started = time.perf_counter()
            ruleset = load_rules(directories)
            load_seconds = time.perf_counter() - started
        clean_seconds, detected = time_document_cleaner(ruleset, documents)
        languages = languages or detected
        cold_seconds, filter_seconds = time_rule_filter(ruleset, documents, languages)
        unique, with_prefilter = time_unique_lines(ruleset, documents, languages, prefilter=True)
        _, without_prefilter = time_unique_lines(ruleset, documents, languages, prefilter=False)
        print(f"{len(ruleset.rules):>7} {load_seconds:>7.2f} {cold_seconds - filter_seconds:>9.2f} "
              f"{total_lines / filter_seconds:>15,.0f} "
              f"{total_bytes / 1e6 / filter_seconds:>12.2f} {total_lines / clean_seconds:>14,.0f} "
              f"{total_bytes / 1e6 / clean_seconds:>11.2f} {with_prefilter / unique * 1e6:>15.1f} "
              f"{without_prefilter / unique * 1e6:>13.1f}")


if __name__ == "__main__":
    main()
