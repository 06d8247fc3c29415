"""Explain a document line by line: kept, or removed by which rule and why.

The same explanation comes from a fresh cleaning of a file or from a finished run's record;
for a run, duplicate removals also show the text and source of the paragraph they duplicate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cleaner.document import Cleaned, segment
from cleaner.report.load import iter_records, run_files
from cleaner.writers.output_dir import OutputError
from cleaner.writers.record import rebuild_source

EVIDENCE_KEYS = ("score", "threshold", "features", "contributions")


def explain_cleaned(cleaned: Cleaned) -> dict[str, Any]:
    document = cleaned.document
    lines = []
    for line, claim in zip(cleaned.lines, cleaned.verdicts()):
        entry: dict[str, Any] = {"line": line.number, "kept": claim is None, "text": line.text}
        if claim is not None:
            entry.update(rule=claim.rule, category=claim.category, **_evidence(claim.detail or {}))
        lines.append(entry)
    return {"id": document.id, "path": document.source.path, "lang": cleaned.lang,
            "extracted": cleaned.extracted, "rejection": _rejection(cleaned), "lines": lines}


def _evidence(detail: dict[str, Any]) -> dict[str, Any]:
    """What a scoring signal (the line classifier, the generic classifier) recorded about a line:
    its score, the threshold it passed and the features that decided it."""
    return {key: detail[key] for key in EVIDENCE_KEYS if key in detail}


def _rejection(cleaned: Cleaned) -> dict[str, Any] | None:
    if cleaned.rejection is None:
        return None
    return {"reason": cleaned.rejection.reason, **cleaned.rejection.detail}


def find_record(out: str | Path, key: str) -> dict[str, Any]:
    """The record of a run (a directory or an fsspec URL) whose id is `key` or whose source
    path is (or ends with) `key`."""
    if "manifest.json" not in run_files(out):
        raise OutputError(f"{out}: not a finished cleaner run (no manifest.json)")
    for record in iter_records(out):
        path = record["metadata"]["source"]["path"]
        if record["id"] == key or path == key or key.endswith("/" + path) or path.endswith("/" + key):
            return record
    raise OutputError(f"{out}: no document with id or path {key!r}")


def explain_record(out: str | Path, record: dict[str, Any]) -> dict[str, Any]:
    """Line verdicts rebuilt from a record's provenance alone; duplicates point at their originals."""
    meta = record["metadata"]
    source_text = rebuild_source(record)
    removals = meta["removed"] + meta["duplicates"]
    originals = _originals(out, {span["duplicate_of"]["id"] for span in meta["duplicates"]})
    lines = []
    for line in segment(source_text):
        span = next((s for s in removals if s["lines"][0] <= line.number <= s["lines"][1]), None)
        entry: dict[str, Any] = {"line": line.number, "kept": span is None, "text": line.text}
        if span is not None:
            entry.update(rule=span["rule"], category=span["category"], **_evidence(span))
            if "duplicate_of" in span:
                target = dict(span["duplicate_of"])
                original = originals.get(target["id"])
                if original is not None:
                    start, end = target["chars"]
                    target["text"] = rebuild_source(original)[start:end]
                entry.update(duplicate_of=target, jaccard=span.get("jaccard"))
        lines.append(entry)
    return {"id": record["id"], "path": meta["source"]["path"], "lang": record["lang"],
            "extracted": meta["extracted"], "rejection": meta.get("rejection"), "lines": lines}


def _originals(out: str | Path, ids: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if ids:
        for record in iter_records(out):
            if record["id"] in ids:
                found[record["id"]] = record
                if len(found) == len(ids):
                    break
    return found
