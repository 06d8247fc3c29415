"""Time and memory of the CLI on a huge single-line file, and where the time goes.

    python benchmarks/hostile_inputs.py            # a 50 MB line
    python benchmarks/hostile_inputs.py --quick    # a 5 MB line (also BENCH_QUICK=1)

Prints wall time and peak memory of one `cleaner clean` run in a fresh process, then the
functions that take the most time inside `DocumentCleaner.clean` for the same text.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cleaner.document import Document, Source, document_id  # noqa: E402
from cleaner.filters.examples import load_checked_rules  # noqa: E402
from cleaner.stages import DocumentCleaner  # noqa: E402

WORDS = "der die das und Haus Katze läuft schnell über Straße the quick brown fox jumps".split()


def one_line(megabytes: int) -> str:
    target = megabytes * 1_000_000
    line = " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(target // 5))
    return line[:target]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--megabytes", type=int)
    args = parser.parse_args()
    megabytes = args.megabytes or (5 if args.quick else 50)
    text = one_line(megabytes)
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch, "corpus")
        corpus.mkdir()
        (corpus / "one-line.txt").write_text(text, encoding="utf-8")
        size = (corpus / "one-line.txt").stat().st_size
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cleaner.cli", "clean", str(corpus), "-o", str(Path(scratch, "out")),
                        "--workers", "1", "-q"], check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"single line of {size / 1e6:.1f} MB ({len(text):,} characters): cleaner clean took {wall:.1f} s, "
          f"peak RSS {peak:.0f} MB ({peak / (size / 1e6):.0f}x the file)")

    cleaner = DocumentCleaner(load_checked_rules())
    source = Source(path="one-line.txt", root="bench", sha256="", size=size, format="txt")
    document = Document(document_id(source), text, source)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    cleaned = cleaner.clean(document)
    profile.disable()
    print(f"DocumentCleaner.clean alone: {time.perf_counter() - started:.1f} s "
          f"(rejection: {cleaned.rejection.reason if cleaned.rejection else 'none'})")
    report = io.StringIO()
    pstats.Stats(profile, stream=report).sort_stats("tottime").print_stats(8)
    print("\n".join(line for line in report.getvalue().splitlines() if line.strip())[-1200:])


if __name__ == "__main__":
    main()
