"""Build the output record of one document: Dolma-compatible top level, provenance in metadata.

The record is lossless: `text` is the concatenation of the `kept` spans, and kept, removed and
duplicate spans together cover the source once, in order, so the input can be rebuilt from it.
"""

from __future__ import annotations

from typing import Any

from cleaner.document import Cleaned, Span

DUPLICATE_CATEGORY = "duplicate"


def build_record(cleaned: Cleaned, added: str, pipeline: dict[str, Any],
                 spans: list[Span] | None = None) -> dict[str, Any]:
    """The record of one document; pass `spans` when the caller has computed them already."""
    doc = cleaned.document
    spans = cleaned.spans() if spans is None else spans
    kept, removed, duplicates = [], [], []
    for span in spans:
        entry = span.to_json(doc.text)
        if span.claim is None:
            kept.append(entry)
        elif span.claim.category == DUPLICATE_CATEGORY:
            duplicates.append(entry)
        else:
            removed.append(entry)
    published = cleaned.extracted.get("published") or ([doc.meta["date"]] if doc.meta.get("date") else [])
    metadata: dict[str, Any] = {
        "source": doc.source.to_json(),
        "kept": kept,
        "removed": removed,
        "duplicates": duplicates,
        "extracted": cleaned.extracted,
        "pipeline": pipeline,
    }
    if doc.meta:
        metadata["input"] = doc.meta
    if cleaned.rejection is not None:
        metadata["rejection"] = {"reason": cleaned.rejection.reason, **cleaned.rejection.detail}
    return {
        "id": doc.id,
        "text": cleaned.clean_text(spans),
        "source": doc.source.root,
        "added": added,
        "created": published[0] if published else None,
        "lang": cleaned.lang,
        "lang_score": cleaned.lang_score,
        "metadata": metadata,
    }


def rebuild_source(record: dict[str, Any]) -> str:
    """The original text, from a record alone: the provenance invariant, usable by anyone."""
    meta = record["metadata"]
    pieces: list[tuple[int, str]] = []
    offset = 0
    text = record["text"]
    for span in meta["kept"]:
        start, end = span["chars"]
        pieces.append((start, text[offset : offset + end - start]))
        offset += end - start
    pieces += [(span["chars"][0], span["text"]) for span in meta["removed"] + meta["duplicates"]]
    pieces.sort(key=lambda p: p[0])
    return "".join(piece for _, piece in pieces)
