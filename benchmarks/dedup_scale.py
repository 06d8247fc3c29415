"""Scale of the sharded deduplication: driver and worker memory, and incremental runs.

Generates phase-1 dedup batches (`<task>.dedup.pkl`, what cleaning would spill) directly, with
synthetic fingerprints: long paragraphs with 30 shingles and 16 band hashes, of which some are
exact copies and some near copies (29 of 30 shingles and 12 of 16 bands shared) of a pool of
templates, and short lines of which half come from a pool of menu lines. Then runs phase 2 in
a fresh process with `--workers` local processes and prints, per corpus size:

- the driver's peak RSS (VmHWM) and the largest worker's (ru_maxrss of the reaped children);
- the time of a first run into a fresh --state, and of a run adding one task (1% of 100 tasks,
  at least 50,000 paragraphs) to it,
  with each step's wall time (partition, group_exact, verify, the components' rounds, ...).

    python benchmarks/dedup_scale.py                          # 1M and 3M paragraphs
    python benchmarks/dedup_scale.py --paragraphs 1000000 10000000
    python benchmarks/dedup_scale.py --quick                  # 200k: a smoke run
    python benchmarks/dedup_scale.py --task-mb 32 --fan-in 8  # smaller dedup tasks, merged shuffle files
    python benchmarks/dedup_scale.py --merge-rate             # merging a step's files, alone

Files go under a temporary directory in --tmp (default /tmp) and are removed after.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cleaner.dedup.shuffle as shuffle  # noqa: E402
from cleaner.dedup import DedupBatch, DedupSettings, DedupState, FingerprintBatch, deduplicate  # noqa: E402
from cleaner.dedup.components import Spread, in_process, process_spread  # noqa: E402
from cleaner.dedup.job import STATE_BITS, TASK_BYTES, group_tasks, range_bits  # noqa: E402
from cleaner.dedup.tokens import fmix64  # noqa: E402
from cleaner.spill import read_dedup, spill_path, write_decisions  # noqa: E402

SETTINGS = DedupSettings()
TASK_PARAGRAPHS = 50_000
PER_DOCUMENT = 10
SHINGLES = 30
TEMPLATES = 20_000
MENU_LINES = 500
SITES = 100


def _hashes(identity: np.ndarray, width: int, salt: int) -> np.ndarray:
    """[len(identity), width] pseudo-random uint64 derived from each identity alone."""
    base = identity.astype(np.uint64)[:, None] * np.uint64(width) + np.arange(width, dtype=np.uint64)
    return fmix64(fmix64(base ^ np.uint64(salt)))


def make_batch(task: int, paragraphs: int, seed: int) -> DedupBatch:
    """One task's batch: documents of PER_DOCUMENT paragraphs, fingerprints synthesised."""
    rng = np.random.default_rng([seed, task])
    gid = (np.uint64(seed) << np.uint64(40)) + np.uint64(task) * np.uint64(paragraphs) + np.arange(paragraphs, dtype=np.uint64)
    kind = rng.choice(4, size=paragraphs, p=[0.62, 0.05, 0.03, 0.30])  # unique, exact copy, near copy, short
    template = rng.integers(0, TEMPLATES, size=paragraphs).astype(np.uint64) + np.uint64(1 << 50)
    long = kind < 3
    identity = np.where(kind == 1, template, gid)
    shingles = (_hashes(identity, SHINGLES, 1) >> np.uint64(32)).astype(np.uint32)
    near = np.flatnonzero(kind == 2)
    shingles[near] = (_hashes(template[near], SHINGLES, 1) >> np.uint64(32)).astype(np.uint32)
    shingles[near, :1] = (_hashes(gid[near], 1, 7) >> np.uint64(32)).astype(np.uint32)
    shingles.sort(axis=1)
    assert SETTINGS.bands is not None
    bands = _hashes(identity, SETTINGS.bands, 2)
    bands[near, :12] = _hashes(template[near], SETTINGS.bands, 2)[:, :12]
    bands[near, 12:] = _hashes(gid[near], SETTINGS.bands, 3)[:, 12:]
    menu = rng.integers(0, MENU_LINES, size=paragraphs).astype(np.uint64) + np.uint64(1 << 52)
    exact = np.where(kind == 2, gid ^ np.uint64(1 << 62), np.where((kind == 3) & (rng.random(paragraphs) < 0.5), menu, identity))
    exact = fmix64(exact.astype(np.uint64))
    words = np.where(long, rng.integers(30, 90, size=paragraphs), rng.integers(2, 9, size=paragraphs)).astype(np.int32)
    documents = paragraphs // PER_DOCUMENT
    line = np.tile(np.arange(PER_DOCUMENT, dtype=np.int64), documents)
    chars = words.astype(np.int64) * 7
    start = np.cumsum(chars + 1) - chars - 1
    start -= np.repeat(start[::PER_DOCUMENT], PER_DOCUMENT)
    refs = np.stack([line, line + 1, line + 1, start, start + chars], axis=1)
    ids = [f"t{task}d{d}" for d in range(documents)]
    fingerprint = FingerprintBatch(np.full(documents, PER_DOCUMENT, dtype=np.int64), exact, words,
                                   np.where(long, SHINGLES, 0).astype(np.int64), shingles[long].ravel(), bands[long])
    sites = [f"host:site{s}.example" for s in rng.integers(0, SITES, size=documents)]
    return DedupBatch(ids, [f"{doc}.txt" for doc in ids], sites, refs, rng.random(paragraphs) < 0.1, fingerprint)


def _generate(job: tuple[Path, int, int, int]) -> int:
    spill, task, paragraphs, seed = job
    batch = make_batch(task, paragraphs, seed)
    target = Path(spill_path(spill, task, "dedup"))
    target.write_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    return target.stat().st_size


def _peak_kb() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def timed(spread: Spread, seconds: dict[str, float]) -> Spread:
    """`spread`, adding each step's wall time (all its calls) to `seconds[step name]`."""
    def run(function: Callable[..., Any], calls: Iterable[tuple[Any, ...]], shared: tuple[Any, ...]) -> Iterator[Any]:
        started = time.perf_counter()
        yield from spread(function, calls, shared)
        seconds[function.__name__] = seconds.get(function.__name__, 0.0) + time.perf_counter() - started
    return run


def _files(root: Path) -> tuple[int, int]:
    """(bytes, files) under `root`."""
    sizes = [path.stat().st_size for path in root.rglob("*") if path.is_file()]
    return sum(sizes), len(sizes)


def measure(spill: Path, tasks: list[int], state_dir: Path | None, workers: int, task_mb: int,
            fan_in: int) -> dict[str, Any]:
    """Phase 2 over the spilled tasks, in this (fresh) process: the driver."""
    shuffle.FAN_IN = fan_in  # the driver decides which files are merged
    started = time.perf_counter()
    sizes = [Path(spill_path(spill, task, "dedup")).stat().st_size for task in tasks]
    assert tasks == list(range(tasks[0], tasks[0] + len(tasks))), "the tasks of one run are consecutive"
    batches = sum(sizes)
    state = DedupState.open(state_dir, SETTINGS) if state_dir is not None else None
    bits = state.bits if state is not None and state.bits is not None else range_bits(batches, STATE_BITS if state else 0)
    steps: dict[str, float] = {}
    groups = group_tasks(sizes, task_mb << 20 if task_mb else None, tasks[0])
    with process_spread(workers) as pool:
        spread = timed(pool, steps)
        stats, job = deduplicate(groups, partial(read_dedup, spill), partial(write_decisions, spill), str(spill / "dedup"),
                                 SETTINGS, spread, bits, state.prior() if state else None,
                                 state.new_run() if state else None)
        if state is not None:
            tables = state.compact(job, spread)
            committing = time.perf_counter()
            state.commit(job, tables, set())
            steps["commit"] = time.perf_counter() - committing
    scratch = _files(spill / "dedup")
    shutil.rmtree(spill / "dedup", ignore_errors=True)
    return {"seconds": time.perf_counter() - started, "driver_peak_mb": _peak_kb() / 1024, "scratch": scratch,
            "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "bits": bits,
            "dedup_tasks": len(groups),
            "removed": stats.exact_paragraphs + stats.near_paragraphs, "recurring": stats.recurring_lines,
            "clusters": stats.clusters, "steps": steps}


def _measured(spill: Path, tasks: list[int], state_dir: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    """`measure` in a fresh process, so its peak is phase 2's alone."""
    command = [sys.executable, __file__, "--measure", str(spill), "--tasks", ",".join(map(str, tasks)),
               "--workers", str(args.workers), "--task-mb", str(args.task_mb), "--fan-in", str(args.fan_in)] \
        + (["--state", str(state_dir)] if state_dir is not None else [])
    result: dict[str, Any] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return result


def run_size(paragraphs: int, args: argparse.Namespace) -> None:
    workers = args.workers
    root = Path(tempfile.mkdtemp(prefix="dedup-scale-", dir=args.tmp))
    try:
        spill = root / "spill"
        spill.mkdir()
        tasks = max(1, paragraphs // TASK_PARAGRAPHS)
        extra = max(1, tasks // 100)  # the 1% an incremental run adds
        started = time.perf_counter()
        with Pool(workers) as pool:
            sizes = pool.map(_generate, [(spill, task, TASK_PARAGRAPHS, 1) for task in range(tasks + extra)])
        generated = time.perf_counter() - started
        first = _measured(spill, list(range(tasks)), root / "state", args)
        again = _measured(spill, list(range(tasks, tasks + extra)), root / "state", args)
        state_bytes = sum(p.stat().st_size for p in (root / "state").rglob("*") if p.is_file())
        print(f"{tasks * TASK_PARAGRAPHS:>10,} paragraphs ({tasks} tasks, {sum(sizes[:tasks]) / 2**20:,.0f} MB of batches, "
              f"generated in {generated:.0f} s, {first['dedup_tasks']} dedup tasks ({again['dedup_tasks']} in the incremental run), "
              f"2**{first['bits']} hash ranges, files merged above {args.fan_in} sources):")
        print(f"    first run into a fresh state: {first['seconds']:7.1f} s, driver peak {first['driver_peak_mb']:6.0f} MB, "
              f"largest worker {first['worker_peak_mb']:6.0f} MB; {first['removed']:,} duplicates, "
              f"{first['recurring']:,} recurring lines, {first['clusters']:,} clusters; state {state_bytes / 2**20:,.0f} MB")
        print(f"    adding {extra * TASK_PARAGRAPHS:,} paragraphs ({100 * extra / tasks:.1f}%): {again['seconds']:7.1f} s "
              f"({100 * again['seconds'] / first['seconds']:.1f}% of the first run), driver peak "
              f"{again['driver_peak_mb']:6.0f} MB, largest worker {again['worker_peak_mb']:6.0f} MB")
        for name, found in (("first run", first), ("incremental run", again)):
            print(f"    {name}, wall seconds per step ({workers} workers): "
                  + ", ".join(f"{step} {seconds:.1f}" for step, seconds in found["steps"].items()))
            print(f"    {name}, shuffle files at the end: {found['scratch'][0] / 2**20:,.0f} MB in {found['scratch'][1]:,} files",
                  flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def merge_rate(tmp: str, sources: int = 64, rows: int = 100_000, ranges: int = 1 << 16) -> None:
    """`shuffle.merge_block` alone: `sources` map outputs of `rows` rows (three 8-byte columns,
    random destinations among `ranges`) merged eight at a time, in this process."""
    root = tempfile.mkdtemp(prefix="dedup-merge-", dir=tmp)
    try:
        rng = np.random.default_rng(1)
        for source in range(sources):
            shuffle.write_parts(root, "step", source, rng.integers(0, ranges, rows),
                                {"key": rng.integers(0, 1 << 63, rows).astype(np.uint64),
                                 "local": np.arange(rows), "doc": np.arange(rows)})
        shuffle.FAN_IN = 8
        cpu = time.process_time()
        shuffle.merge_sources(root, in_process, "step")
        seconds = time.process_time() - cpu
        merged = sources * rows * 24 / 2**20
        print(f"merge: {merged:,.0f} MB of rows from {sources} files ({ranges:,} destinations) in {seconds:.2f} CPU s, "
              f"{merged / seconds:,.0f} MB/s per core")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--tmp", default="/tmp")
    parser.add_argument("--task-mb", type=int, default=0,
                        help=f"MB of batches per dedup task (default: the pipeline's rule, up to {TASK_BYTES >> 20} MB)")
    parser.add_argument("--fan-in", type=int, default=shuffle.FAN_IN,
                        help="merge a step's files once it has more sources than this (default: the pipeline's)")
    parser.add_argument("--merge-rate", action="store_true", help="only time merging a step's files")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tasks", help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, [int(t) for t in args.tasks.split(",")], args.state, args.workers,
                                 args.task_mb, args.fan_in)))
        return
    if args.merge_rate:
        merge_rate(args.tmp)
        return
    for paragraphs in [200_000] if args.quick else args.paragraphs:
        run_size(paragraphs, args)


if __name__ == "__main__":
    main()
