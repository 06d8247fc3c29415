"""Throughput of the input readers, output writers and the HTML report; prints figures.

    python benchmarks/bench_io.py            # full: 50,000 records, 300 HTML pages
    python benchmarks/bench_io.py --quick    # small: 5,000 records, 30 pages (also BENCH_QUICK=1)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cleaner.document import Source  # noqa: E402
from cleaner.readers.html import extract_html  # noqa: E402
from cleaner.readers.jsonl import read_jsonl  # noqa: E402
from cleaner.readers.parquet import read_parquet  # noqa: E402
from cleaner.report import write_report  # noqa: E402
from cleaner.writers.shards import ShardedWriter  # noqa: E402

WORDS = ("der die das und ist nicht mit auf für von dem ein eine Stadt Rat Haushalt Jahr Schule "
         "beschlossen Straße Bürger Frühjahr größten Menschen heute gestern morgen").split()


def text_of(rng: random.Random, paragraphs: int) -> str:
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60))) + "." for _ in range(paragraphs))


def record(i: int, rng: random.Random) -> dict:
    text = text_of(rng, 4)
    return {
        "id": f"{i:08d}", "text": text, "source": "bench", "added": "2026-01-01T00:00:00Z", "created": None,
        "lang": "de", "lang_score": 0.99,
        "metadata": {
            "source": {"path": f"bench/{i}.txt", "sha256": "0" * 64, "size": len(text) + 40, "format": "txt"},
            "kept": [{"lines": [3, 9], "chars": [40, 40 + len(text)]}],
            "removed": [{"lines": [1, 2], "chars": [0, 40], "rule": "common.menu", "category": "navigation",
                         "text": "Startseite\nPolitik Wirtschaft Sport Kultur\n\n"[:40]}],
            "duplicates": [], "extracted": {}, "pipeline": {"cleaner": "0.1.0", "rules_digest": "x", "settings": {}},
        },
    }


def page(i: int, rng: random.Random) -> str:
    body = "".join(f"<p>{text_of(rng, 1)}</p>" for _ in range(8))
    nav = "".join(f'<li><a href="/{w}">{w}</a></li>' for w in WORDS[:12])
    return (f"<html><head><title>Artikel {i}</title><meta name='author' content='Autor {i}'></head><body>"
            f"<nav><ul>{nav}</ul></nav><article><h1>Artikel {i}</h1>{body}</article>"
            f"<div class='comments'><p>{text_of(rng, 1)}</p></div><footer>Impressum</footer></body></html>")


def timed(label: str, work, size_bytes: int | None = None, items: int | None = None) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    figures = [f"{seconds:7.2f} s"]
    if items:
        figures.append(f"{items / seconds:10,.0f} items/s")
    if size_bytes:
        figures.append(f"{size_bytes / seconds / 1e6:7.1f} MB/s (uncompressed)")
    print(f"{label:<34}" + "  ".join(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    args = parser.parse_args()
    n_records, n_pages = (5_000, 30) if args.quick else (50_000, 300)
    rng = random.Random(1)
    records = [record(i, rng) for i in range(n_records)]
    pages = [page(i, rng) for i in range(n_pages)]
    print(f"{n_records:,} records, {n_pages} HTML pages{' (quick)' if args.quick else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for fmt, compression in (("jsonl", None), ("jsonl", "gz"), ("jsonl", "zst"), ("parquet", None)):
            out = root / f"{fmt}-{compression}"
            out.mkdir()
            writer = ShardedWriter(out, format=fmt, compression=compression, shard_size=10_000)

            def write_all() -> None:
                for rec in records:
                    writer.write(rec)
                writer.close()

            timed(f"write {fmt}{'.' + compression if compression else ''}", write_all, items=n_records)
            size = sum(p.stat().st_size for p in writer.paths)
            raw = sum(len(rec["text"]) for rec in records)
            errors: list[str] = []
            reader = read_parquet if fmt == "parquet" else read_jsonl

            def read_all() -> None:
                for path in writer.paths:
                    base = Source(path.name, str(out), hashlib.sha256(b"").hexdigest(), path.stat().st_size, fmt)
                    for _ in reader(path, base, errors.append):
                        pass

            timed(f"read {fmt}{'.' + compression if compression else ''} ({size / 1e6:.1f} MB on disk)", read_all,
                  size_bytes=raw, items=n_records)
        timed("extract_html (trafilatura)", lambda: [extract_html(p, None, 30.0) for p in pages], items=n_pages)
        report_dir = root / "jsonl-None"
        (report_dir / "stats.json").write_text('{"documents": {"in": %d, "out": %d, "rejected": 0}}' % (n_records, n_records))
        timed("write_report (200 sampled docs)", lambda: write_report(report_dir))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (includes the in-memory test records)")


if __name__ == "__main__":
    main()
