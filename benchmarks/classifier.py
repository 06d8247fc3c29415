"""What the learned line classifier costs: ms per MB of input, and per-document cleaning with it on
against off, on the seeds and (where present) the dev set's tracks.

    python benchmarks/classifier.py [--devset ../shared/devset] [--repeat 3]

Per corpus it prints the input size, the CPU time of DocumentCleaner.clean over every document
with the classifier off and on (best of --repeat), the classifier's own time per MB (the
difference), and on/off as a throughput ratio. The whole-pipeline figure (reading, dedup and
writing included) is benchmarks/pipeline.py's; this one isolates the per-document phase, where
the classifier runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleaner.document import Document  # noqa: E402
from cleaner.filters.classifier import ClassifierSettings  # noqa: E402
from cleaner.filters.examples import load_checked_rules  # noqa: E402
from cleaner.readers import ReadOptions, read_input  # noqa: E402
from cleaner.readers.discover import discover  # noqa: E402
from cleaner.stages import DocumentCleaner, StageSettings  # noqa: E402

TRACKS = ("lines/recall", "lines/page", "strings/recall", "strings/page")


def documents(directory: Path) -> list[Document]:
    return [doc for item in discover([str(directory)], "*.txt") for doc in read_input(item, ReadOptions(), print)]


def best_cpu(cleaner: DocumentCleaner, docs: list[Document], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        for doc in docs:
            cleaner.clean(doc)
        times.append(time.process_time() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "devset")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rules = load_checked_rules()
    off = DocumentCleaner(rules, StageSettings(classifier=ClassifierSettings(enabled=False)))
    on = DocumentCleaner(rules, StageSettings())
    corpora = {"seeds": ROOT / "seeds"}
    if (args.devset / "lines").is_dir():
        corpora.update({track: args.devset / track / "input" for track in TRACKS})
    else:
        print(f"(no dev set at {args.devset}: seeds only)")
    print(f"{'corpus':16} {'MB':>6} {'off s':>7} {'on s':>7} {'classifier ms/MB':>17} {'on/off throughput':>18}")
    for name, directory in corpora.items():
        docs = documents(directory)
        megabytes = sum(len(doc.text.encode("utf-8")) for doc in docs) / 1e6
        without, with_it = best_cpu(off, docs, args.repeat), best_cpu(on, docs, args.repeat)
        print(f"{name:16} {megabytes:6.2f} {without:7.3f} {with_it:7.3f} "
              f"{1000 * (with_it - without) / megabytes:17.0f} {without / with_it:18.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
