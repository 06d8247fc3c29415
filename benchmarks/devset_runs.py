"""Run the cleaner over the dev set's tracks, score each run, attribute every removal, check floors.

Shared by benchmarks/cleaning_quality.py (which prints the figures) and tests/test_quality_gate.py
(which fails when they drop below benchmarks/quality_floors.toml). Attribution reads the run's own
provenance: documents.jsonl and rejected.jsonl name, per source line (1-based, as the labels
count them), the rule or corpus signal that removed it, or the reason its document was dropped.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from devset_scoring import LINE_TRACKS, TRACKS, kept_flags, norm, read_lines, read_rows, score_lines, score_strings  # noqa: E402

from cleaner.cli import main as cleaner_main  # noqa: E402

FLOORS = BENCH / "quality_floors.toml"
CONFIGS = {"default": [], "no-dedup": ["--no-dedup"]}
# Per input file: its rejection as "rejected:<reason>" (or None), and {source line number: rule id}.
Causes = dict[str, tuple[str | None, dict[int, str]]]


def devset_path(given: str | None = None) -> Path:
    """--devset, else $CLEANER_DEVSET, else ../shared/devset beside the repository."""
    return Path(given or os.environ.get("CLEANER_DEVSET") or ROOT.parent / "shared" / "devset")


def clean_track(track: Path, out: Path, args: list[str]) -> Path:
    """Clean a track's input/ into out (JSONL with provenance, plus the text/ mirror the scores read)."""
    code = cleaner_main(["clean", str(track / "input"), "-o", str(out), "--format", "jsonl,txt", "-q", *args])
    if code:
        raise RuntimeError(f"cleaner clean {track / 'input'} {' '.join(args)} exited with {code}")
    return out


def removal_causes(run: Path) -> Causes:
    """What removed each line of each input file, read from the run's provenance."""
    causes = {}
    for name in ("documents.jsonl", "rejected.jsonl"):
        with open(run / name, encoding="utf-8") as f:
            for record in map(json.loads, f):
                meta = record["metadata"]
                by_line = {}
                for span in meta["removed"] + meta["duplicates"]:
                    first, last = span["lines"]
                    by_line.update(dict.fromkeys(range(first, last + 1), span["rule"]))
                rejection = meta.get("rejection")
                causes[meta["source"]["path"]] = (f"rejected:{rejection['reason']}" if rejection else None, by_line)
    return causes


def _cause(causes: Causes, file: str, numbers: list[int]) -> str:
    """What removed these source lines: the first rule that claimed one, else the document's rejection."""
    rejection, by_line = causes.get(file, ("missing", {}))
    return next((by_line[n] for n in numbers if n in by_line), None) or rejection or "unattributed"


def attribute_lines(track: Path, text: Path, causes: Causes) -> dict[str, Counter]:
    """Per rule or signal: boilerplate and content lines (and content chars) it removed."""
    table: dict[str, Counter] = defaultdict(Counter)
    for row in read_rows(track):
        src = read_lines(track / "input" / row["file"]) or []
        flags = kept_flags(src, read_lines(text / row["file"]) or [])
        for number, (line, label, kept) in enumerate(zip(src, row["labels"], flags), 1):
            if kept or label not in ("boilerplate", "content"):
                continue
            counts = table[_cause(causes, row["file"], [number])]
            counts[label] += 1
            if label == "content":
                counts["content_chars"] += len(line)
    return table


def _line_spans(src: list[str]) -> tuple[str, list[tuple[int, int, int]]]:
    """The source as score_strings.py normalises it, and each non-blank line's (start, end, number) in it."""
    joined, spans = "", []
    for number, line in enumerate(src, 1):
        if piece := norm(line):
            joined += " " if joined else ""
            spans.append((len(joined), len(joined) + len(piece), number))
            joined += piece
    return joined, spans


def _string_lines(string: str, joined: str, spans: list[tuple[int, int, int]]) -> list[int]:
    """The source line numbers a normalised string spans (none where it is not in the source)."""
    at = joined.find(string)
    return [] if at < 0 else [n for start, end, n in spans if start < at + len(string) and end > at]


def attribute_strings(track: Path, text: Path, causes: Causes) -> dict[str, Counter]:
    """Per rule or signal: must-remove strings it took out (boilerplate) and must-keep strings it lost (content)."""
    table: dict[str, Counter] = defaultdict(Counter)
    for row in read_rows(track):
        joined, spans = _line_spans(read_lines(track / "input" / row["file"]) or [])
        out = text / row["file"]
        nout = norm(out.read_text(encoding="utf-8", errors="replace") if out.exists() else "")
        for label, strings in (("boilerplate", row["remove"]), ("content", row["keep"])):
            for string in map(norm, strings):
                if string not in nout:
                    table[_cause(causes, row["file"], _string_lines(string, joined, spans))][label] += 1
    return table


def signal_of(rule: str) -> str:
    """The signal a removal belongs to: a rule pack, the line classifier, one corpus signal, generic,
    or a rejection."""
    if rule.startswith("generic."):
        return "generic"
    if rule.startswith("classifier."):
        return "classifier"
    if rule.startswith("rejected:"):
        return "rejected:" + re.split(r"[.:]", rule)[1]
    if rule.startswith(("dedup.", "language.")) or rule in ("missing", "unattributed"):
        return rule
    return "rules"


def score_run(track: Path, run: Path) -> dict[str, Any]:
    """A finished run's scores (as the dev set's scripts give them), headline figures and removals."""
    causes = removal_causes(run)
    if track.parent.name == "lines":
        scores, table = score_lines(track, run / "text"), attribute_lines(track, run / "text", causes)
    else:
        scores, table = score_strings(track, run / "text"), attribute_strings(track, run / "text", causes)
    return {"scores": scores, "figures": headline(f"{track.parent.name}/{track.name}", scores),
            "removals": {rule: dict(counts) for rule, counts in sorted(table.items())}}


def measure_track(track: Path, args: list[str]) -> dict[str, Any]:
    """Clean one track with these cleaner options in a temporary directory and score the run."""
    with tempfile.TemporaryDirectory(prefix="cleaner-quality-") as tmp:
        return score_run(track, clean_track(track, Path(tmp) / "out", args))


def headline(track: str, scores: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per language ("total" first): boilerplate removed, content kept (and chars kept), F1, in percent."""
    if track in LINE_TRACKS:
        return {lang: {"boilerplate_removed": 100 * s["boilerplate_removed"], "content_kept": 100 * s["content_kept"],
                       "content_chars_kept": 100 * s["content_chars_kept"], "f1": 100 * s["f1"], "files": s["files"]}
                for lang, s in sorted(scores.items(), key=lambda item: item[0] != "total")}
    groups = {"total": scores["total"], **scores["per_language"]}
    return {lang: {"boilerplate_removed": 100 * s["boilerplate_recall"], "content_kept": 100 * s["content_retention"],
                   "f1": 100 * s["f1"], "files": s["files"]} for lang, s in groups.items()}


def measure(devset: Path, configs: list[str], tracks: tuple[str, ...] = TRACKS) -> dict[str, dict[str, Any]]:
    """{config: {track: {"scores", "figures", "removals"}}} for the named configurations of CONFIGS."""
    return {config: {track: measure_track(devset / track, CONFIGS[config]) for track in tracks} for config in configs}


def load_floors(path: Path = FLOORS) -> dict[str, dict[str, float]]:
    """The gate's floors: {track: {figure: percent}}."""
    with open(path, "rb") as f:
        return tomllib.load(f)


def check_floors(results: dict[str, Any], floors: dict[str, dict[str, float]]) -> list[str]:
    """Every figure below its floor, one readable line each ("lines/page: content_kept 90.1% < floor 93.0%")."""
    failures = []
    for track, limits in floors.items():
        if track not in results:
            failures.append(f"{track}: not measured")
            continue
        total = results[track]["figures"]["total"]
        failures += [f"{track}: {name} {total[name]:.1f}% < floor {floor:.1f}%"
                     for name, floor in limits.items() if not total[name] >= floor]
    return failures
