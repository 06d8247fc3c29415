"""Cleaning quality on the dev set (../shared/devset): how much boilerplate goes, how much article stays.

Cleans every track (lines/recall, lines/page, strings/recall, strings/page) with the defaults and
with --no-dedup, scores each run exactly as the dev set's score_lines.py / score_strings.py do,
and prints per track and language: boilerplate removed, content kept (strings; lines and
characters) and F1; then, per signal and per rule, the boilerplate and the content it removed,
so the signal that eats article text is one look away. Dev figures: the rules are tuned on these
pages, so they are optimistic for unseen sites.

    python benchmarks/cleaning_quality.py [--devset DIR] [--config default|no-dedup] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from typing import Any

from devset_runs import CONFIGS, devset_path, measure, signal_of
from devset_scoring import LINE_TRACKS, TRACKS


def _pct(value: float, sign: str = "%") -> str:
    return "n/a" if value != value else f"{value:.1f}{sign}"  # NaN: a group without such strings


def _print_figures(track: str, figures: dict[str, dict[str, float]]) -> None:
    unit = "lines" if track in LINE_TRACKS else "strings"
    chars = "  chars kept" if track in LINE_TRACKS else ""
    print(f"{track}   (share of {unit}; F1 of the two)")
    print(f"  {'lang':<8}{'files':>6}{'bp removed':>12}{'content kept':>14}{chars}{'F1':>8}")
    for lang, f in figures.items():
        chars = f"{_pct(f['content_chars_kept']):>12}" if "content_chars_kept" in f else ""
        print(f"  {lang:<8}{f['files']:>6}{_pct(f['boilerplate_removed']):>12}{_pct(f['content_kept']):>14}{chars}"
              f"{_pct(f['f1'], ''):>8}")


def _print_removals(track: str, removals: dict[str, dict[str, int]], top: int) -> None:
    lines = track in LINE_TRACKS
    signals: dict[str, Counter] = defaultdict(Counter)
    for rule, counts in removals.items():
        signals[signal_of(rule)].update(counts)
    unit = "lines" if lines else "strings"

    def table(title: str, rows: dict[str, Counter | dict[str, int]]) -> None:
        order = sorted(rows, key=lambda k: (-rows[k].get("content", 0), -rows[k].get("boilerplate", 0), k))
        print(f"  {title:<36}{'bp ' + unit:>12}{'content ' + unit:>16}" + (f"{'content chars':>15}" if lines else ""))
        for key in order[:top]:
            row = rows[key]
            extra = f"{row.get('content_chars', 0):>15}" if lines else ""
            print(f"  {key:<36}{row.get('boilerplate', 0):>12}{row.get('content', 0):>16}{extra}")
        if len(order) > top:
            print(f"  ... {len(order) - top} more (--top, --json)")

    table("removed by signal", signals)
    table("removed by rule (most content first)", removals)


def report(results: dict[str, dict[str, Any]], top: int) -> None:
    """Print every configuration's tracks: the figures, then the removals per signal and per rule."""
    for config, tracks in results.items():
        print(f"===== {config} ({' '.join(CONFIGS[config]) or 'defaults'})")
        for track, result in tracks.items():
            _print_figures(track, result["figures"])
            _print_removals(track, result["removals"], top)
            print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", help="the dev set (default: $CLEANER_DEVSET, else ../shared/devset)")
    parser.add_argument("--config", choices=sorted(CONFIGS), action="append",
                        help="run only this configuration (repeatable; default: all)")
    parser.add_argument("--track", choices=TRACKS, action="append", help="only this track (repeatable)")
    parser.add_argument("--top", type=int, default=12, help="rows per removal table (default: 12)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON ('-': stdout only)")
    args = parser.parse_args(argv)
    devset = devset_path(args.devset)
    if not (devset / "lines").is_dir():
        print(f"cleaning_quality: no dev set at {devset} (set --devset or CLEANER_DEVSET)", file=sys.stderr)
        return 2
    results = measure(devset, args.config or list(CONFIGS), tuple(args.track or TRACKS))
    if args.json == "-":
        json.dump(results, sys.stdout, indent=1)
        return 0
    report(results, args.top)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
