"""A small finished run (records, stats.json, manifest.json) built with the real document model.

Records come from `Cleaned` spans exactly as the pipeline builds them, and stats.json is
summed from those records, so the report tests check the page against consistent data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cleaner.document import Claim, Cleaned, Document, Source, document_id

SHARED = (
    "Der Gemeinderat hat am Dienstag den Haushalt für das kommende Jahr beschlossen. "
    "Die größten Posten sind die Sanierung der Grundschule und der Ausbau des Radnetzes."
)
# data-stat id on the page -> (stats.json section, key)
CARD_KEYS = {
    "documents_in": ("documents", "in"), "documents_out": ("documents", "out"),
    "documents_rejected": ("documents", "rejected"), "characters_in": ("characters", "in"),
    "characters_kept": ("characters", "kept"), "characters_removed": ("characters", "removed"),
    "lines_in": ("lines", "in"), "lines_kept": ("lines", "kept"), "lines_removed": ("lines", "removed"),
    "duplicate_clusters": ("duplicates", "clusters"), "duplicate_paragraphs": ("duplicates", "paragraphs"),
    "duplicate_chars": ("duplicates", "chars"), "recurring_lines": ("duplicates", "recurring_lines"),
}
PIPELINE = {"cleaner": "0.1.0", "rules_digest": "9f2c", "settings": {"dedup": True, "min_words": 5}}

# path, source text, lang, {line number: claim}
SOURCES: list[tuple[str, str, str, dict[int, Claim]]] = [
    (
        "lokal/haushalt.txt",
        f"Startseite\nPolitik\n\nHaushalt beschlossen\n\n{SHARED}\n\nTeilen auf Facebook\n",
        "de",
        {1: Claim("de.navigation.menu", "navigation"), 2: Claim("de.navigation.menu", "navigation"),
         8: Claim("common.share.buttons", "share")},
    ),
    (
        "lokal/kommentar.txt",
        f"Meinung: Ein guter Haushalt\n\n{SHARED}\n\nEndlich wird in Bildung investiert, schreibt unsere Autorin.\n"
        "Newsletter abonnieren und nichts verpassen!\n",
        "de",
        {6: Claim("de.newsletter.signup", "newsletter")},
    ),
    (
        "en/report.txt",
        "City council passes budget\n\nThe council approved the budget on Tuesday after a long debate.\n"
        "Sign up for our newsletter\nAdvertisement\n",
        "en",
        {4: Claim("en.newsletter.signup", "newsletter"), 5: Claim("common.ad.label", "ad")},
    ),
]
REJECTED = ("lokal/kurz.txt", "Mehr lesen\n", "de", "too_few_words")


def _source(path: str, text: str) -> Source:
    data = text.encode()
    return Source(path, "seeds", hashlib.sha256(data).hexdigest(), len(data), "txt")


def _record(cleaned: Cleaned, lang: str) -> dict[str, Any]:
    text = cleaned.document.text
    spans = cleaned.spans()
    removed = [s.to_json(text) for s in spans if s.claim and s.claim.category != "duplicate"]
    duplicates = [s.to_json(text) for s in spans if s.claim and s.claim.category == "duplicate"]
    return {
        "id": cleaned.document.id,
        "text": cleaned.clean_text(spans),
        "source": "seeds",
        "added": "2026-01-01T00:00:00Z",
        "created": None,
        "lang": lang,
        "lang_score": 0.99,
        "metadata": {
            "source": cleaned.document.source.to_json(),
            "kept": [s.to_json(text) for s in spans if s.claim is None],
            "removed": removed,
            "duplicates": duplicates,
            "extracted": {},
            "pipeline": PIPELINE,
        },
    }


def build_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cleaned_docs = []
    for path, text, lang, claims in SOURCES:
        source = _source(path, text)
        cleaned = Cleaned.start(Document(document_id(source), text, source))
        for number, claim in claims.items():
            cleaned.claim(number - 1, claim)
        cleaned_docs.append((cleaned, lang))
    # the shared paragraph of the second document duplicates the first document's (line 6)
    first, second = cleaned_docs[0][0], cleaned_docs[1][0]
    original = first.lines[5]
    second.claim(2, Claim("dedup.exact_paragraph", "duplicate", {
        "duplicate_of": {"id": first.document.id, "path": first.document.source.path,
                         "lines": [6, 6], "chars": [original.start, original.end]},
        "jaccard_estimate": 1.0, "jaccard": 1.0,
    }))
    records = [_record(cleaned, lang) for cleaned, lang in cleaned_docs]
    path, text, lang, reason = REJECTED
    source = _source(path, text)
    rejected = _record(Cleaned.start(Document(document_id(source), text, source)), lang)
    rejected["metadata"]["rejection"] = {"reason": reason, "words": 2}
    return records, [rejected]


def build_stats(records: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> dict[str, Any]:
    by_rule: dict[str, dict[str, Any]] = {}
    by_category: dict[str, dict[str, int]] = {}
    lines_removed = chars_removed = dup_paragraphs = dup_chars = 0
    for record in records:
        meta = record["metadata"]
        for span in meta["removed"] + meta["duplicates"]:
            lines = span["lines"][1] - span["lines"][0] + 1
            chars = span["chars"][1] - span["chars"][0]
            rule = by_rule.setdefault(span["rule"], {"lines": 0, "chars": 0, "category": span["category"]})
            rule["lines"] += lines
            rule["chars"] += chars
            category = by_category.setdefault(span["category"], {"lines": 0, "chars": 0})
            category["lines"] += lines
            category["chars"] += chars
            lines_removed += lines
            chars_removed += chars
        dup_paragraphs += len(meta["duplicates"])
        dup_chars += sum(d["chars"][1] - d["chars"][0] for d in meta["duplicates"])
    chars_in = sum(len(r["text"]) for r in records) + chars_removed
    lines_kept = sum(k["lines"][1] - k["lines"][0] + 1 for r in records for k in r["metadata"]["kept"])
    languages: dict[str, int] = {}
    for record in records:
        languages[record["lang"]] = languages.get(record["lang"], 0) + 1
    return {
        "documents": {"in": len(records) + len(rejected), "out": len(records), "rejected": len(rejected),
                      "rejected_by_reason": {"too_few_words": len(rejected)}},
        "characters": {"in": chars_in, "kept": chars_in - chars_removed, "removed": chars_removed},
        "lines": {"in": lines_kept + lines_removed, "kept": lines_kept, "removed": lines_removed},
        "removed_by_rule": by_rule,
        "removed_by_category": by_category,
        "duplicates": {"clusters": 1, "cluster_sizes": {"2": 1}, "paragraphs": dup_paragraphs, "chars": dup_chars,
                       "recurring_lines": 0},
        "languages": languages,
        "errors": [{"path": "lokal/kaputt.jsonl.gz", "message": "lokal/kaputt.jsonl.gz: truncated gzip stream"}],
    }


def write_run(out_dir: Path) -> dict[str, Any]:
    """Write documents.jsonl, rejected.jsonl, stats.json and manifest.json; return the stats."""
    records, rejected = build_records()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (("documents.jsonl", records), ("rejected.jsonl", rejected)):
        (out_dir / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    stats = build_stats(records, rejected)
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    manifest = {"version": "0.1.0", "finished": "2026-01-01T00:00:05Z", "settings": PIPELINE["settings"]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return stats
