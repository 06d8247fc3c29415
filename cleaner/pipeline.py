"""Wire the stages for one run: read -> strip -> detect language -> write, with provenance.

Phase 1 (`DocumentCleaner.clean`) is per-document and pure, so engines may run it anywhere.
Phase 2 (`run`) consumes phase-1 results in input order and writes them, so the output never
depends on how phase 1 was scheduled.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cleaner import __version__
from cleaner.document import Cleaned, Document
from cleaner.filters.boilerplate import RuleFilter
from cleaner.filters.language import make_detector
from cleaner.readers.discover import InputFile, discover
from cleaner.readers.text import read_text
from cleaner.rules.loader import RuleSet
from cleaner.stats import RunStats
from cleaner.writers.output_dir import GENERATOR, StagedOutput, check_output
from cleaner.writers.record import build_record

FORMATS = ("jsonl", "txt")


@dataclass(frozen=True)
class Settings:
    """Everything that changes the output; recorded in every record and in the manifest."""

    glob: str = "*.txt"
    formats: tuple[str, ...] = ("jsonl",)
    langid: str = "langdetect"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["formats"] = list(self.formats)
        return data


class DocumentCleaner:
    """Phase 1 for one document: strip boilerplate with the rules that apply, tag the language.

    Language packs need the language, and the language should be read from clean text, so
    language-neutral rules (site and common packs) run first, the language is detected on what
    they keep, and then every applicable rule runs on the original text.
    """

    def __init__(self, ruleset: RuleSet, langid: str = "langdetect") -> None:
        self.rules = RuleFilter(ruleset)
        self.detector = make_detector(langid)

    def clean(self, document: Document) -> Cleaned:
        cleaned = Cleaned.start(document)
        neutral = self.rules.applicable(cleaned, None, with_language_rules=False)
        self.rules.apply(cleaned, neutral)
        lang, score = self.detector.detect("\n".join(line.text for line in cleaned.kept_lines()))
        full = self.rules.applicable(cleaned, None if lang == "und" else lang)
        if [r.id for r in full] != [r.id for r in neutral]:
            cleaned = Cleaned.start(document)
            self.rules.apply(cleaned, full)
        cleaned.lang, cleaned.lang_score = lang, score
        return cleaned


def read_documents(files: Iterable[InputFile]) -> Iterator[Document]:
    for item in files:
        yield from read_text(item)


def added_timestamp() -> str:
    """When this run wrote its output; SOURCE_DATE_EPOCH pins it for reproducible runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch
              else dt.datetime.now(dt.timezone.utc))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(inputs: list[str], out: Path, ruleset: RuleSet, settings: Settings, *, force: bool = False) -> RunStats:
    """Clean every input into OUT; OUT changes only if the whole run succeeds."""
    started = time.perf_counter()
    files = discover(inputs, settings.glob)
    check_output(out, sorted({f.root for f in files}), force)
    cleaner = DocumentCleaner(ruleset, settings.langid)
    stats = RunStats()
    added = added_timestamp()
    pipeline_meta = {"cleaner": __version__, "rules_digest": ruleset.digest, "settings": settings.to_json()}
    inputs_seen: dict[str, dict[str, Any]] = {}
    with StagedOutput(out) as staging:
        jsonl = (staging / "documents.jsonl").open("w", encoding="utf-8") if "jsonl" in settings.formats else None
        try:
            for document in read_documents(files):
                cleaned = cleaner.clean(document)
                stats.add(cleaned)
                source = document.source
                inputs_seen.setdefault(f"{source.root}/{source.path}", {
                    "root": source.root, "path": source.path, "sha256": source.sha256, "size": source.size})
                record = build_record(cleaned, added, pipeline_meta)
                if jsonl is not None:
                    jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
                if "txt" in settings.formats:
                    _write_text(staging / "text", source.path, record["text"])
        finally:
            if jsonl is not None:
                jsonl.close()
        _write_json(staging / "stats.json", stats.to_json())
        _write_json(staging / "manifest.json", {
            "generator": GENERATOR,
            "version": __version__,
            "added": added,
            "inputs": list(inputs_seen.values()),
            "settings": settings.to_json(),
            "rules": {"digest": ruleset.digest, "packs": list(ruleset.packs)},
            "counts": stats.to_json()["documents"],
            "timings": {"total_seconds": round(time.perf_counter() - started, 3)},
        })
    return stats


def _write_text(root: Path, relative: str, text: str) -> None:
    target = root / relative
    if target.exists():
        raise FileExistsError(f"{target}: two inputs map to the same text/ path; clean them into separate outputs")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8"))  # bytes: line endings stay exactly as in the source


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
