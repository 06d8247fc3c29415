"""Benchmark cleaner.dedup against the naive datasketch approach on a planted corpus.

Prints, beside the baseline (datasketch MinHash.update per shingle + MinHashLSH(threshold=0.8),
run on a subset of the same corpus in the same run):
- decision quality at threshold 0.8 against exact-Jaccard truth (precision, recall);
- MinHash stage throughput from raw paragraph text, MB/s per core (CPU time);
- index memory, bytes per indexed paragraph (peak RSS growth of the deduplicating process);
- end-to-end time for the whole corpus with 2 worker processes for phase 1.

Truth: every planted pair (corpus_gen) with exact Jaccard >= 0.8, plus every pair either
system reported whose exact Jaccard, recomputed here with plain Python sets, is >= 0.8;
a paragraph should be removed iff it is not the earliest member of its component. Only
paragraphs with >= min_shingles shingles are scored (shorter ones are exact-only by design).

    python benchmarks/dedup.py            # full: 1M paragraphs, baseline on 20k
    python benchmarks/dedup.py --quick    # 100k paragraphs, baseline on 5k (BENCH_QUICK=1 too)
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus_gen import generate, jaccard, shingles, write_jsonl  # noqa: E402

from cleaner.dedup import DedupBatch, DedupSettings, deduplicate, fingerprint_batch  # noqa: E402
from cleaner.dedup.components import process_spread  # noqa: E402
from cleaner.dedup.job import group_tasks, range_bits  # noqa: E402
from cleaner.dedup.tokens import Tokenizer  # noqa: E402
from cleaner.spill import read_decisions, read_dedup, spill_path, write_decisions  # noqa: E402

SETTINGS = DedupSettings()
BATCH = 64  # documents per fingerprint_batch call / per task sent to a worker
TOKENIZER = Tokenizer()  # one per process, as each pipeline worker keeps one


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes() -> int:
    """Peak RSS of this process image (VmHWM; ru_maxrss would include the parent's RSS at fork)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _read_batches(path: Path, limit: int | None = None):
    batch: list[str] = []
    seen = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            batch.append(line)
            seen += 1
            if len(batch) == BATCH:
                yield batch
                batch = []
            if limit is not None and seen >= limit:
                break
    if batch:
        yield batch


def _phase1(lines: list[str]) -> tuple[DedupBatch, list[int]]:
    """Worker: parse a batch of JSONL documents and fingerprint them, as the pipeline's phase 1
    does (one site, no line looking like boilerplate: this measures paragraph dedup)."""
    docs = [json.loads(line) for line in lines]
    refs = np.array([_ref(d["paragraphs"], k) for d in docs for k in range(len(d["paragraphs"]))],
                    dtype=np.int64).reshape(-1, 5)
    batch = DedupBatch([d["id"] for d in docs], [f"{d['id']}.txt" for d in docs], ["dir:"] * len(docs), refs,
                       np.zeros(len(refs), dtype=bool), fingerprint_batch([d["paragraphs"] for d in docs], SETTINGS, TOKENIZER))
    return batch, [len(d["paragraphs"]) for d in docs]


def _ref(paragraphs: list[str], k: int) -> tuple[int, int, int, int, int]:
    start = sum(len(p) + 1 for p in paragraphs[:k])
    return k, k + 1, k + 1, start, start + len(paragraphs[k])


def _spill(job: tuple[Path, int, list[str]]) -> tuple[list[str], list[int]]:
    """Worker: phase 1 for one batch, spilled where phase 2 reads it, as the pipeline does."""
    spill, task, lines = job
    batch, counts = _phase1(lines)
    Path(spill_path(spill, task, "dedup")).write_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    return batch.doc_ids, counts


def run_ours(corpus: Path, workers: int, out: Path) -> dict:
    """Phase 1 and the sharded phase 2 in a process pool; returns figures, writes removals to `out`."""
    started = time.perf_counter()
    base = _rss_bytes()
    doc_start: dict[str, int] = {}
    total = 0
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        spill = Path(work)
        with Pool(workers) as pool:
            jobs = ((spill, task, lines) for task, lines in enumerate(_read_batches(corpus)))
            tasks = 0
            for doc_ids, counts in pool.imap(_spill, jobs):
                tasks += 1
                for doc_id, count in zip(doc_ids, counts):
                    doc_start[doc_id] = total
                    total += count
        added = time.perf_counter()
        after_add = _rss_bytes() - base
        sizes = [Path(spill_path(spill, task, "dedup")).stat().st_size for task in range(tasks)]
        with process_spread(workers) as spread:
            stats, _ = deduplicate(group_tasks(sizes), partial(read_dedup, spill), partial(write_decisions, spill),
                                   str(spill / "dedup"), SETTINGS, spread, range_bits(sum(sizes)))
        resolved = time.perf_counter()
        peak = _peak_bytes() - base
        removed, target, similarity = [], [], []
        for task in range(tasks):
            for doc_id, decision in read_decisions(spill, task).by_document().items():
                for line_index, claim in decision.removals:
                    if claim.category == "duplicate":
                        pointer = claim.detail["duplicate_of"]
                        removed.append(doc_start[doc_id] + line_index)
                        target.append(doc_start[pointer["id"]] + pointer["lines"][0] - 1)
                        similarity.append(claim.detail["jaccard"])
    np.savez(out, removed=np.array(removed, dtype=np.int64), target=np.array(target, dtype=np.int64))
    return {
        "paragraphs": total,
        "seconds": resolved - started,
        "phase1_seconds": added - started,
        "resolve_seconds": resolved - added,
        "index_bytes_after_add": after_add,
        "peak_bytes": peak,
        "stats": asdict(stats),
    }


def run_baseline(corpus: Path, paragraphs: int, out: Path) -> dict:
    """datasketch as one would write it first: update per shingle, query then insert."""
    from datasketch import MinHash, MinHashLSH

    from cleaner.dedup.normalize import normalize_text

    base = _rss_bytes()
    lsh = MinHashLSH(threshold=SETTINGS.threshold, num_perm=SETTINGS.num_perm)
    minhash_cpu = lsh_cpu = 0.0
    size = 0
    index = 0
    removed, target = [], []
    for batch in _read_batches(corpus):
        for line in batch:
            for text in json.loads(line)["paragraphs"]:
                if index >= paragraphs:
                    break
                size += len(text.encode())
                t0 = time.process_time()
                words = normalize_text(text).split()
                grams = [" ".join(words[i : i + 5]).encode() for i in range(len(words) - 4)]
                m = MinHash(num_perm=SETTINGS.num_perm, seed=SETTINGS.seed)
                for gram in grams:
                    m.update(gram)
                t1 = time.process_time()
                if len(grams) >= SETTINGS.min_shingles:
                    hits = lsh.query(m)
                    if hits:
                        removed.append(index)
                        target.append(min(hits))
                    lsh.insert(index, m)
                lsh_cpu += time.process_time() - t1
                minhash_cpu += t1 - t0
                index += 1
        if index >= paragraphs:
            break
    np.savez(out, removed=np.array(removed, dtype=np.int64), target=np.array(target, dtype=np.int64))
    return {
        "paragraphs": index,
        "mb": size / 1e6,
        "minhash_cpu": minhash_cpu,
        "lsh_cpu": lsh_cpu,
        "peak_bytes": _peak_bytes() - base,
        "bands_rows": [lsh.b, lsh.r],
    }


def minhash_throughput(corpus: Path, documents: int) -> tuple[float, float, float, float]:
    """(MB, CPU seconds cold, CPU seconds warm, wall seconds warm) of phase 1 from raw text.

    Cold: the first pass, where every distinct token is normalised in Python once; warm: the
    same text again, the steady state of a long run where few tokens are new.
    """
    batches = [[json.loads(line)["paragraphs"] for line in lines] for lines in _read_batches(corpus, documents)]
    size = sum(len(p.encode()) for batch in batches for doc in batch for p in doc)
    seconds = []
    tokenizer = Tokenizer()
    for _ in range(2):
        cpu, wall = time.process_time(), time.perf_counter()
        for batch in batches:
            fingerprint_batch(batch, SETTINGS, tokenizer)
        seconds.append((time.process_time() - cpu, time.perf_counter() - wall))
    return size / 1e6, seconds[0][0], seconds[1][0], seconds[1][1]


def _components(edges: list[tuple[int, int]]) -> set[int]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x for x in parent if find(x) != x}


def score(flat: list[str], planted, runs: list[dict[str, np.ndarray]], limit: int | None = None) -> list[tuple[float, float, int, int]]:
    """Precision, recall, predicted and true removals of each run over long paragraphs < limit."""
    limit = len(flat) if limit is None else limit
    long_cache: dict[int, bool] = {}

    def is_long(i: int) -> bool:
        if i not in long_cache:
            long_cache[i] = len(shingles(flat[i])) >= SETTINGS.min_shingles
        return long_cache[i]

    def similar(a: int, b: int) -> bool:
        return a < limit and b < limit and is_long(a) and is_long(b) and jaccard(flat[a], flat[b]) >= SETTINGS.threshold

    edges = [(s, c) for c, s, j in planted if j >= SETTINGS.threshold and c < limit and is_long(c) and is_long(s)]
    for r in runs:
        edges.extend((s, c) for c, s in zip(r["removed"].tolist(), r["target"].tolist()) if similar(c, s))
    truth = _components(edges)
    # A removal may rest on a link to another copy rather than to the kept paragraph (a chain):
    # check each not-yet-explained removal against the other members its system grouped it with.
    for r in runs:
        groups: dict[int, list[int]] = {}
        for c, s in zip(r["removed"].tolist(), r["target"].tolist()):
            groups.setdefault(s, [s]).append(c)
        for members in groups.values():
            for c in members[1:]:
                if c not in truth:
                    edges.extend((m, c) for m in members if m != c and similar(m, c))
    truth = _components(edges)
    out = []
    for r in runs:
        predicted = {c for c in r["removed"].tolist() if c < limit and is_long(c)}
        hit = len(predicted & truth)
        out.append((hit / len(predicted) if predicted else 1.0, hit / len(truth) if truth else 1.0, len(predicted), len(truth)))
    return out


def _child(stage: str, args: list[str]) -> dict:
    command = [sys.executable, __file__, "--stage", stage, *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--paragraphs", type=int)
    parser.add_argument("--baseline", type=int, help="paragraphs for the datasketch baseline")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stage", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "ours":
        print(json.dumps(run_ours(args.corpus, args.workers, args.out)))
        return
    if args.stage == "baseline":
        print(json.dumps(run_baseline(args.corpus, args.baseline, args.out)))
        return

    n = args.paragraphs or (100_000 if args.quick else 1_000_000)
    n_base = args.baseline or (5_000 if args.quick else 20_000)
    work = ROOT / ".bench" / "dedup"
    work.mkdir(parents=True, exist_ok=True)
    corpus_path = work / f"corpus-{n}.jsonl"
    t = time.perf_counter()
    corpus = generate(n)
    write_jsonl(corpus, corpus_path)
    flat = [p for d in corpus.documents for p in d]
    mb = corpus.bytes / 1e6
    print(f"corpus: {len(corpus.documents)} documents, {len(flat)} paragraphs, {mb:.1f} MB, "
          f"{len(corpus.planted)} planted copies ({sum(j >= 0.8 for _, _, j in corpus.planted)} with J >= 0.8), "
          f"generated in {time.perf_counter() - t:.1f} s")
    print(f"settings: threshold {SETTINGS.threshold}, {SETTINGS.ngram}-word shingles, {SETTINGS.num_perm} perms, "
          f"{SETTINGS.bands} bands x {SETTINGS.rows} rows, min_shingles {SETTINGS.min_shingles}")

    sample_docs = max(1, len(corpus.documents) // (10 if not args.quick else 4))
    s_mb, s_cold, s_cpu, s_wall = minhash_throughput(corpus_path, sample_docs)
    ours = _child("ours", ["--corpus", str(corpus_path), "--workers", str(args.workers), "--out", str(work / "ours.npz")])
    base = _child("baseline", ["--corpus", str(corpus_path), "--baseline", str(n_base), "--out", str(work / "baseline.npz")])
    ours_r, base_r = dict(np.load(work / "ours.npz")), dict(np.load(work / "baseline.npz"))

    (p_all, r_all, pred_all, true_all), = score(flat, corpus.planted, [ours_r])
    (p_sub, r_sub, pred_sub, true_sub), (bp, br, bpred, btrue) = score(flat, corpus.planted, [ours_r, base_r], base["paragraphs"])

    ours_mbs = s_mb / s_cpu
    base_mbs = base["mb"] / base["minhash_cpu"]
    base_e2e_per_mb = (base["minhash_cpu"] + base["lsh_cpu"]) / base["mb"]
    ours_e2e_per_mb = ours["seconds"] / mb
    per_para_add = ours["index_bytes_after_add"] / ours["paragraphs"]
    per_para_peak = ours["peak_bytes"] / ours["paragraphs"]
    base_per_para = base["peak_bytes"] / base["paragraphs"]
    print()
    print(f"{'figure':44} {'cleaner.dedup':>16} {'datasketch':>14} {'ratio':>8}")
    print(f"{'precision @0.8 (same subset)':44} {p_sub:>16.4f} {bp:>14.4f} {p_sub / bp if bp else float('nan'):>7.2f}x")
    print(f"{'recall @0.8 (same subset)':44} {r_sub:>16.4f} {br:>14.4f} {r_sub / br if br else float('nan'):>7.2f}x")
    print(f"{'MinHash stage, MB/s per core (CPU, warm)':44} {ours_mbs:>16.1f} {base_mbs:>14.2f} {ours_mbs / base_mbs:>7.1f}x")
    print(f"{'MinHash stage, MB/s per core (CPU, cold)':44} {s_mb / s_cold:>16.1f} {base_mbs:>14.2f} {s_mb / s_cold / base_mbs:>7.1f}x")
    print(f"{'end to end, seconds per MB (wall vs CPU)':44} {ours_e2e_per_mb:>16.3f} {base_e2e_per_mb:>14.3f} {base_e2e_per_mb / ours_e2e_per_mb:>7.1f}x")
    print(f"{'index memory, bytes/paragraph (peak RSS)':44} {per_para_peak:>16.0f} {base_per_para:>14.0f} {base_per_para / per_para_peak:>7.1f}x")
    print()
    print(f"whole corpus ({ours['paragraphs']} paragraphs): precision {p_all:.4f}, recall {r_all:.4f} "
          f"({pred_all} removed, {true_all} truly duplicate long paragraphs)")
    print(f"baseline subset ({base['paragraphs']} paragraphs): {bpred} removed by datasketch, {btrue} true; "
          f"MinHashLSH chose {base['bands_rows'][0]} bands x {base['bands_rows'][1]} rows")
    print(f"MinHash stage sample: {s_mb:.1f} MB; cold {s_cold:.1f} s CPU; warm {s_cpu:.1f} s CPU, {s_wall:.1f} s wall "
          f"({s_mb / s_wall:.1f} MB/s wall, machine shared)")
    print(f"end to end, {args.workers} workers: {ours['seconds']:.1f} s wall (phase 1 + add {ours['phase1_seconds']:.1f} s, "
          f"resolve {ours['resolve_seconds']:.1f} s); datasketch extrapolated: {base_e2e_per_mb * mb:.0f} s CPU")
    print(f"index memory: {per_para_add:.0f} bytes/paragraph after add, {per_para_peak:.0f} peak through resolve "
          f"(shingle sets and band hashes live in temporary files: "
          f"{ours['stats']['spill_bytes'] / ours['paragraphs']:.0f} bytes/paragraph on disk, not RSS)")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("dedup stats:", json.dumps(ours["stats"], sort_keys=True))


if __name__ == "__main__":
    main()
