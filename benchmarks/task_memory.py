"""Peak memory of one phase-1 task against the size of the input file it is part of.

Generates a .jsonl.gz of about 14 MB and one of about 140 MB (the same generated documents,
benchmarks/corpus_gen.py, written over and over with new ids; gzip sees only 32 KB back, so
both compress alike), and a Parquet file with the larger one's rows in many row groups. Each
file is surveyed as a run plans it (readers.survey), then its first, middle and last task are
run alone, each in a fresh process, as a worker runs them (TaskCleaner, with deduplication's
fingerprints); the process's peak RSS is printed beside its RSS once the rules and detectors
are loaded. With `--whole`, the small file is also run as the single task it was before inputs
were split (slow: it cleans the whole file). Usage:
`python benchmarks/task_memory.py [--quick] [--whole] [--keep DIR]`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_gen import generate  # noqa: E402

from cleaner.pipeline import TASK_MAX_BYTES, DocumentCleaner, Settings, Task, TaskCleaner, make_tasks  # noqa: E402
from cleaner.readers import ReadOptions, survey  # noqa: E402
from cleaner.readers.discover import discover  # noqa: E402
from cleaner.rules.examples import load_checked_rules  # noqa: E402

MB = 1 << 20
PARQUET_ROW_GROUP_ROWS = 100  # about 0.75 MB of text: a row group is the smallest part


def rows_of(paragraphs: int) -> list[str]:
    """The generated documents as JSON objects without their id, which each copy adds."""
    corpus = generate(paragraphs, seed=23)
    return [json.dumps({"text": "\n".join(document)}, ensure_ascii=False)[1:] for document in corpus.documents]


def write_gz(rows: list[str], path: Path, target: int) -> int:
    """Copies of `rows` with fresh ids until the compressed file reaches `target` bytes; returns
    the number of records written."""
    written = 0
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        while raw.tell() < target:
            for start in range(0, len(rows), 1000):
                block = rows[start:start + 1000]
                out.write("".join(f'{{"id": "d{written + i}", {row}\n' for i, row in enumerate(block)).encode())
                written += len(block)
                if raw.tell() >= target:
                    break
    return written


def write_parquet(source: Path, path: Path) -> None:
    """The records of `source` as Parquet, a row group at a time (never all in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    with gzip.open(source, "rt", encoding="utf-8") as lines, pq.ParquetWriter(path, schema) as writer:
        group: list[dict[str, str]] = []
        for line in lines:
            group.append(json.loads(line))
            if len(group) == PARQUET_ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                group = []
        if group:
            writer.write_table(pa.Table.from_pylist(group, schema=schema))


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set now, or with "VmHWM" its peak (Linux), in MB. Not
    getrusage's ru_maxrss: a child started by fork and exec inherits its parent's peak there."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def run_one(task_file: Path) -> None:
    """Child mode: run one pickled task as a worker does; print RSS after setup and peak RSS."""
    task: Task = pickle.loads(task_file.read_bytes())
    cleaner = TaskCleaner(load_checked_rules(), Settings())
    cleaner._cleaner = DocumentCleaner(cleaner.ruleset, cleaner.settings)  # loaded before measuring
    setup = rss_mb()
    started = time.perf_counter()
    result = cleaner(task)
    print(json.dumps({"setup": setup, "peak": rss_mb("VmHWM"), "documents": len(result.documents),
                      "seconds": time.perf_counter() - started}))


def measure(task: Task, scratch: Path) -> dict[str, float]:
    task_file = scratch / f"task{task.index}.pkl"
    task_file.write_bytes(pickle.dumps(task))
    output = subprocess.run([sys.executable, __file__, "--run-task", str(task_file)], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def survey_in_child(path: Path, scratch: Path) -> tuple[list[Task], float, float]:
    """The file's tasks as a run plans them, and the planning's seconds and peak RSS."""
    plan_file = scratch / "plan.pkl"
    output = subprocess.run([sys.executable, __file__, "--plan", str(path), str(plan_file)], check=True,
                            capture_output=True, text=True).stdout
    facts = json.loads(output.splitlines()[-1])
    return pickle.loads(plan_file.read_bytes()), facts["seconds"], facts["peak"]


def plan(path: Path, plan_file: Path) -> None:
    """Child mode: survey one file and pickle its tasks."""
    started = time.perf_counter()
    files = discover([str(path)], "*")
    tasks = make_tasks(files, {0: survey(files[0], ReadOptions(), TASK_MAX_BYTES)})
    plan_file.write_bytes(pickle.dumps(tasks))
    print(json.dumps({"seconds": time.perf_counter() - started,
                      "peak": rss_mb("VmHWM")}))


def report(label: str, path: Path, scratch: Path) -> None:
    tasks, seconds, survey_peak = survey_in_child(path, scratch)
    print(f"{label}: {path.stat().st_size / MB:.0f} MB on disk, {len(tasks)} tasks, "
          f"survey {seconds:.1f} s at peak RSS {survey_peak:.0f} MB")
    for name, task in (("first", tasks[0]), ("middle", tasks[len(tasks) // 2]), ("last", tasks[-1])):
        facts = measure(task, scratch)
        print(f"  {name:6} task {task.index:4}: {facts['documents']:5} documents, {facts['seconds']:5.1f} s, "
              f"RSS after setup {facts['setup']:4.0f} MB, peak {facts['peak']:4.0f} MB "
              f"(+{facts['peak'] - facts['setup']:.0f} MB for the task)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                        help="files of about 3 and 30 MB instead of 14 and 140 MB")
    parser.add_argument("--whole", action="store_true", help="also run the small file as one task, as before")
    parser.add_argument("--keep", type=Path, help="generate the files here and keep them (reused when present)")
    parser.add_argument("--run-task", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--plan", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_task:
        return run_one(args.run_task)
    if args.plan:
        return plan(*args.plan)
    small_mb, large_mb = (3, 30) if args.quick else (14, 140)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        root = args.keep or scratch
        root.mkdir(parents=True, exist_ok=True)
        small, large, parquet = root / "small.jsonl.gz", root / "large.jsonl.gz", root / "large.parquet"
        if not (small.exists() and large.exists() and parquet.exists()):
            rows = rows_of(30_000)
            write_gz(rows, small, small_mb * MB)
            write_gz(rows, large, large_mb * MB)
            write_parquet(large, parquet)
        print(f"task size {TASK_MAX_BYTES / MB:.0f} MB of text; peak RSS per task, by input size:")
        report("small .jsonl.gz", small, scratch)
        report("large .jsonl.gz", large, scratch)
        report("large .parquet", parquet, scratch)
        if args.whole:
            [whole] = make_tasks(discover([str(small)], "*"))
            facts = measure(whole, scratch)
            print(f"small .jsonl.gz as one task (before): {facts['documents']} documents, {facts['seconds']:.0f} s, "
                  f"peak {facts['peak']:.0f} MB (+{facts['peak'] - facts['setup']:.0f} MB for the task)")


if __name__ == "__main__":
    main()
