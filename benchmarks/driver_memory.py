"""The driver's peak memory against input size, for the whole pipeline (`cleaner clean`).

The driver (the process where `run` is called) lists inputs, plans tasks, merges counts and
writes the manifest; workers read, clean, spill, write records and cut shards. So without
deduplication its peak must stay flat however large the input; with deduplication it grows by
what the dedup engine holds in the driver (the sharded dedup is meant to take that out too).
Each run is a fresh process on a generated corpus (benchmarks/corpus_gen.py, one .txt file per
document) with 2 worker processes; the driver's own peak RSS (VmHWM, workers not included),
its own CPU seconds (what caps a cluster when data passes through the driver) and the wall time
are printed per size, with and without dedup.

    python benchmarks/driver_memory.py [--quick] [--paragraphs 10000,40000,160000] [--repo PATH] [--engine ray]
    python benchmarks/driver_memory.py --jsonl --paragraphs 1000000,10000000 --dedup-only

`--jsonl` stores the corpus as JSONL files of up to a million paragraphs each (each generated
with its own seed, so they share no text), as a large corpus is stored: a few big inputs that
workers cut into tasks, rather than a file per document.

`--repo` runs another checkout's code on the same corpora (e.g. the previous release) to
compare.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus_gen import generate, write_files  # noqa: E402

MB = 1 << 20
WORKERS = 2
# The driver's peak is VmHWM, this process's own high-water mark: getrusage's ru_maxrss would
# carry over the size of the process that forked it (this benchmark, holding the corpus).
CHILD = """\
import json, resource, sys, time
from pathlib import Path
from cleaner.dedup import DedupSettings
from cleaner.filters.examples import load_checked_rules
from cleaner.pipeline import Settings, run
def high_water():
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024
corpus, out, dedup, engine = sys.argv[1:5]
rules = load_checked_rules()
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process only: workers are children
    return usage.ru_utime + usage.ru_stime
before, cpu_before = high_water(), cpu()
started = time.perf_counter()
run([corpus], Path(out), rules, Settings(workers=%d, dedup=DedupSettings() if dedup == "on" else None, engine=engine))
print(json.dumps({"seconds": time.perf_counter() - started, "loaded": before, "peak": high_water(),
                  "cpu": cpu() - cpu_before}))
""" % WORKERS


def measure(repo: Path, corpus: Path, out: Path, dedup: bool, engine: str) -> dict[str, float]:
    # PYTHONPATH also makes Ray's workers import `repo`'s code
    env = {**os.environ, "PYTHONPATH": str(repo), "SOURCE_DATE_EPOCH": "1700000000"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(out), "on" if dedup else "off", engine],
                          env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


PER_FILE = 1_000_000  # paragraphs per JSONL file with --jsonl


def write_corpus(paragraphs: int, root: Path, jsonl: bool) -> int:
    """The generated corpus under `root`; returns its bytes of text."""
    if not jsonl:
        return write_files(generate(paragraphs), root)
    root.mkdir()
    size = 0
    for part, first in enumerate(range(0, paragraphs, PER_FILE)):
        corpus = generate(min(PER_FILE, paragraphs - first), seed=7 + part)
        with (root / f"part-{part:04d}.jsonl").open("w", encoding="utf-8") as out:
            for i, document in enumerate(corpus.documents):
                out.write(json.dumps({"id": f"p{part}-{i:07d}", "text": "\n".join(document)}, ensure_ascii=False) + "\n")
        size += corpus.bytes
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--paragraphs", help="comma-separated corpus sizes in paragraphs")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose code runs (default: this one)")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="ray: a local Ray instance with 2 CPUs, started by each run")
    parser.add_argument("--jsonl", action="store_true", help="JSONL files of up to 1M paragraphs, not a file per document")
    parser.add_argument("--dedup-only", action="store_true", help="only the runs with dedup")
    args = parser.parse_args()
    sizes = [int(n) for n in args.paragraphs.split(",")] if args.paragraphs else \
        ([5_000, 20_000] if args.quick else [10_000, 40_000, 160_000])
    print(f"code: {args.repo}; {args.engine} engine, {WORKERS} workers; driver peak RSS (rules loaded -> peak), "
          "driver CPU, wall time")
    rows: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for paragraphs in sizes:
            corpus = Path(tmp) / f"corpus-{paragraphs}"
            size = write_corpus(paragraphs, corpus, args.jsonl)
            for dedup in (True,) if args.dedup_only else (False, True):
                got = measure(args.repo, corpus, Path(tmp) / f"out-{paragraphs}-{dedup}", dedup, args.engine)
                rows[dedup].append((size, got["peak"]))
                print(f"{paragraphs:8d} paragraphs {size / 1e6:7.1f} MB  dedup {'on ' if dedup else 'off'}  "
                      f"driver {got['loaded'] / MB:5.0f} -> {got['peak'] / MB:5.0f} MB, "
                      f"CPU {got['cpu']:5.1f} s ({got['cpu'] / (size / 1e6):.3f} s/MB)  wall {got['seconds']:6.1f} s  "
                      f"{size / 1e6 / got['seconds']:5.2f} MB/s")
    for dedup, points in rows.items():
        if not points:
            continue
        (small, low), (big, high) = points[0], points[-1]
        print(f"dedup {'on ' if dedup else 'off'}: x{big / small:.0f} input -> driver peak x{high / low:.2f} "
              f"(+{(high - low) / MB:.0f} MB, {(high - low) / max(1.0, big - small) * 1e3:.0f} B per KB of input)")


if __name__ == "__main__":
    main()
