"""The dev set's two scoring definitions, re-implemented so the project's benchmark and its quality
gate need nothing from ../shared/devset but the data.

They follow ../shared/devset/score_lines.py and score_strings.py figure for figure (same line
matching, same string normalisation, same language pooling); tests/test_quality_gate.py runs
those scripts on the same cleaned directory and checks that the figures are equal.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

LINE_TRACKS = ("lines/recall", "lines/page")
STRING_TRACKS = ("strings/recall", "strings/page")
TRACKS = LINE_TRACKS + STRING_TRACKS
MIN_LANG_FILES = 10  # score_strings.py's default: languages with fewer files pool as "other"


def read_rows(track: Path) -> list[dict[str, Any]]:
    """A track's truth: labels.jsonl (a label per input line) or truth.jsonl (strings per page)."""
    name = "labels.jsonl" if (track / "labels.jsonl").is_file() else "truth.jsonl"
    with open(track / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_lines(path: Path) -> list[str] | None:
    """A file's lines split on "\\n" as the scripts split them; None where the file is missing."""
    return path.read_text(encoding="utf-8").split("\n") if path.exists() else None


def kept_flags(src_lines: list[str], out_lines: list[str]) -> list[bool]:
    """For each input line, whether it survives: a greedy in-order match of the output's lines."""
    flags, j = [], 0
    out = [line.strip() for line in out_lines]
    for line in src_lines:
        s = line.strip()
        if j < len(out) and s and s == out[j]:
            flags.append(True)
            j += 1
            continue
        while j < len(out) and not out[j]:
            j += 1
        if j < len(out) and s and s == out[j]:
            flags.append(True)
            j += 1
        else:
            flags.append(False)
    return flags


def line_language(row: dict[str, Any]) -> str:
    """score_lines.py's grouping: en, de, or other."""
    lang = (row.get("lang") or "?").split("-")[0].lower()
    return lang if lang in ("en", "de") else "other"


def score_lines(track: Path, cleaned: Path) -> dict[str, dict[str, float]]:
    """score_lines.py's figures: {"total"|"en"|"de"|"other": {boilerplate_removed, content_kept, ...}}."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in read_rows(track):
        src = read_lines(track / "input" / row["file"]) or []
        out = read_lines(cleaned / row["file"]) or []
        for key in ("total", line_language(row)):
            s = sums[key]
            s["files"] += 1
            for line, label, kept in zip(src, row["labels"], kept_flags(src, out)):
                if label == "boilerplate":
                    s["bp"] += 1
                    s["bp_removed"] += not kept
                elif label == "content":
                    s["ct"] += 1
                    s["ct_kept"] += kept
                    s["ct_chars"] += len(line)
                    s["ct_chars_kept"] += len(line) * kept
    result = {}
    for key, s in sums.items():
        removed = s["bp_removed"] / s["bp"] if s["bp"] else 0.0
        kept = s["ct_kept"] / s["ct"] if s["ct"] else 0.0
        result[key] = {"files": s["files"], "boilerplate_lines": s["bp"], "content_lines": s["ct"],
                       "boilerplate_removed": removed, "content_kept": kept,
                       "content_chars_kept": s["ct_chars_kept"] / s["ct_chars"] if s["ct_chars"] else 0.0,
                       "f1": _f1(removed, kept)}
    return result


def norm(text: str) -> str:
    """score_strings.py's matching form: Unicode NFC, whitespace runs as one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def _f1(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0


_COUNTS = ("files", "remove", "removed", "keep", "kept", "in_chars", "out_chars")


def _string_figures(c: dict[str, int]) -> dict[str, float]:
    nan = float("nan")
    recall = c["removed"] / c["remove"] if c["remove"] else nan
    retention = c["kept"] / c["keep"] if c["keep"] else nan
    return {"files": c["files"], "remove_strings": c["remove"], "removed": c["removed"],
            "keep_strings": c["keep"], "kept": c["kept"], "boilerplate_recall": recall,
            "content_retention": retention,
            "f1": _f1(recall, retention) if c["remove"] and c["keep"] else nan,
            "chars_kept_share": c["out_chars"] / c["in_chars"] if c["in_chars"] else nan}


def score_strings(track: Path, cleaned: Path) -> dict[str, Any]:
    """score_strings.py's figures: {"total": {...}, "per_language": {lang or "other": {...}}}."""
    total: dict[str, int] = dict.fromkeys(_COUNTS, 0)
    by_lang: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    for row in read_rows(track):
        src = track / "input" / row["file"]
        inp = src.read_text(encoding="utf-8", errors="replace") if src.exists() else ""
        out = cleaned / row["file"]
        nout = norm(out.read_text(encoding="utf-8", errors="replace") if out.exists() else "")
        kept = sum(norm(s) in nout for s in row["keep"])
        still = sum(norm(s) in nout for s in row["remove"])
        counts = (1, len(row["remove"]), len(row["remove"]) - still, len(row["keep"]), kept,
                  len(norm(inp)), len(nout))
        for tally in (total, by_lang[row.get("lang") or "unknown"]):
            for name, n in zip(_COUNTS, counts):
                tally[name] += n
    pooled: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    for lang, tally in by_lang.items():
        key = lang if tally["files"] >= MIN_LANG_FILES else "other"
        for name in _COUNTS:
            pooled[key][name] += tally[name]
    order = sorted(pooled, key=lambda k: (k == "other", -pooled[k]["files"], k))
    return {"total": _string_figures(total), "per_language": {k: _string_figures(pooled[k]) for k in order}}
