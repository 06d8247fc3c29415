"""The Ray engine's overhead against the local engine on one machine.

The same generated corpus (benchmarks/corpus_gen.py: Zipf text with planted near duplicates and
recurring boilerplate, one .txt file per document) is cleaned by the local engine with 2
worker processes and by the Ray engine on a local Ray instance with 2 CPUs that the run starts
and stops itself, as `cleaner clean --engine ray` does. Prints seconds for each, their ratio,
the part of the Ray run spent starting and stopping the instance, and whether the outputs are
byte-identical. Usage: `python benchmarks/ray_overhead.py [--quick] [--paragraphs N]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    import ray
except ImportError:  # `make bench` runs every script; Ray is an optional extra
    print("ray is not installed (pip install 'cleaner[ray]'): Ray engine benchmark skipped")
    sys.exit(0)
from corpus_gen import generate, write_files

from cleaner.filters.examples import load_checked_rules
from cleaner.pipeline import Settings, run

REPO = Path(__file__).resolve().parent.parent
COMPARED = ("documents.jsonl", "rejected.jsonl", "stats.json")
CPUS = 2


def timed_run(corpus: Path, out: Path, engine: str) -> float:
    started = time.perf_counter()
    run([str(corpus)], out, load_checked_rules(), Settings(engine=engine, workers=CPUS))
    return time.perf_counter() - started


def instance_seconds() -> float:
    """Starting and stopping a local instance, which every `--engine ray` run without an address pays."""
    started = time.perf_counter()
    ray.init(address="local", num_cpus=CPUS, include_dashboard=False, logging_level="warning")
    ray.shutdown()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--paragraphs", type=int)
    args = parser.parse_args()
    paragraphs = args.paragraphs or (8_000 if args.quick else 120_000)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    # Ray's workers import cleaner afresh: from this checkout, as the driver does, not from an
    # installed copy that may be another version.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        size = write_files(generate(paragraphs), corpus)
        files = len(list(corpus.iterdir()))
        print(f"corpus: {files} files, {paragraphs} paragraphs, {size / 1e6:.1f} MB; {CPUS} CPUs each")
        local = timed_run(corpus, Path(tmp) / "local", "local")
        print(f"local engine (--workers {CPUS}):           {local:7.2f} s  {size / 1e6 / local:5.2f} MB/s")
        distributed = timed_run(corpus, Path(tmp) / "ray", "ray")
        print(f"ray engine (local instance, {CPUS} CPUs):   {distributed:7.2f} s  {size / 1e6 / distributed:5.2f} MB/s")
        start_stop = instance_seconds()
        print(f"  of which starting/stopping the instance: {start_stop:7.2f} s")
        print(f"ratio ray / local: {distributed / local:.2f}; without instance start/stop: "
              f"{(distributed - start_stop) / local:.2f}")
        same = all((Path(tmp) / "local" / name).read_bytes() == (Path(tmp) / "ray" / name).read_bytes()
                   for name in COMPARED)
        print(f"outputs byte-identical ({', '.join(COMPARED)}): {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
