"""HTML reader benchmark: trafilatura alone with our settings against `read_html` over the same files.

Prints MB of HTML per CPU second (MB/s per core) for
- trafilatura alone: `bare_extraction` with the reader's settings on pages already in memory,
- trafilatura without metadata (``with_metadata=False``): what the metadata costs,
- our reader: `read_html` over the files (read, decode, pipe to the extractor child, extract,
  table clean-up, Document), CPU of this process plus the extractor child,
and the reader's speed as a fraction of trafilatura's, with the reader's overhead per page, and the
CPU of one bare pipe round trip per page (page out, a reply of the extracted text's size back, to
an echoing child) as the part of that overhead the child process costs.

Each figure is measured in a forked process and read from `getrusage(RUSAGE_CHILDREN)`, so the
extractor child's CPU is counted and the figure holds on a machine shared with other work.
The pages are the generated HTML corpus of `pipeline_corpus.py` (cached under `<repo>/.bench/`).

    python benchmarks/html_extract.py           # 3000 pages of the 200 MB corpus (about 1 min)
    python benchmarks/html_extract.py --quick   # 300 pages (BENCH_QUICK=1 too)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline_corpus import cached  # noqa: E402

from cleaner.document import Source  # noqa: E402
from cleaner.readers.html import EXTRACTION_OPTIONS, read_html  # noqa: E402

MB = 10**6


def cpu_seconds_in_child(work: Callable[[], None]) -> float:
    """CPU (user + system) of `work` run in a forked process, including any children it reaps."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pid = os.fork()
    if pid == 0:  # the child runs atexit handlers (which stop the extractor) on sys.exit
        try:
            work()
        finally:
            sys.stdout.flush()
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SystemExit(f"benchmark child failed with status {status}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pipe_round_trips(pages: list[str], replies: list[str]) -> None:
    """Send each page to a forked child that answers like the extractor, without extracting."""
    parent, child = multiprocessing.Pipe()
    pid = os.fork()
    if pid == 0:
        parent.close()
        for reply in replies:
            child.recv()
            child.send(("ok", (reply, {"title": reply[:60], "url": "https://example.com/a"})))
        os._exit(0)
    child.close()
    for page in pages:
        parent.send((page, None))
        parent.recv()
    os.waitpid(pid, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--pages", type=int, help="pages to use (default 3000, 300 with --quick)")
    parser.add_argument("--cache", type=Path, default=Path(__file__).resolve().parent.parent / ".bench")
    args = parser.parse_args()
    pages = args.pages or (300 if args.quick else 3000)

    corpus, _ = cached("html", 200 * MB, args.cache)
    files = sorted(corpus.rglob("*.html"))[:pages]
    pages_bytes = [path.read_bytes() for path in files]
    pages_text = [data.decode("utf-8") for data in pages_bytes]
    size = sum(len(data) for data in pages_bytes) / MB

    import trafilatura

    def alone(with_metadata: bool) -> Callable[[], None]:
        return lambda: [trafilatura.bare_extraction(html, with_metadata=with_metadata, **EXTRACTION_OPTIONS)
                        for html in pages_text] and None

    def reader() -> None:
        for path in files:
            base = Source(path=path.name, root="bench", sha256="0" * 64, size=0, format="html")
            for _ in read_html(path, base):
                pass

    print(f"{len(files)} pages, {size:.1f} MB of HTML from {corpus}")
    cpu_alone = cpu_seconds_in_child(alone(True))
    cpu_bare = cpu_seconds_in_child(alone(False))
    replies = [html[: len(html) // 2] for html in pages_text]  # extracted text is about half the page here
    cpu_pipe = cpu_seconds_in_child(lambda: pipe_round_trips(pages_text, replies))
    started = time.perf_counter()
    cpu_reader = cpu_seconds_in_child(reader)
    wall_reader = time.perf_counter() - started
    print(f"trafilatura alone, our settings      {size / cpu_alone:6.2f} MB/s per core "
          f"({cpu_alone / len(files) * 1e3:.2f} ms/page)")
    print(f"trafilatura alone, without metadata  {size / cpu_bare:6.2f} MB/s per core "
          f"({cpu_bare / len(files) * 1e3:.2f} ms/page)")
    print(f"our reader (read_html)               {size / cpu_reader:6.2f} MB/s per core "
          f"({cpu_reader / len(files) * 1e3:.2f} ms/page; wall {size / wall_reader:.2f} MB/s)")
    print(f"reader / trafilatura alone           {cpu_alone / cpu_reader:6.2f} "
          f"(reader overhead {(cpu_reader - cpu_alone) / len(files) * 1e3:.2f} ms/page)")
    print(f"pipe round trip alone                {cpu_pipe / len(files) * 1e3:6.2f} ms/page")


if __name__ == "__main__":
    main()
