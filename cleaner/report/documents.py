"""The document view: each sampled document's source rebuilt from its record, every removal shown.

A record holds the clean text plus, in ``metadata``, the character ranges it was kept from and
the removed spans with their own text, so the source is the kept pieces (cut from ``text`` in
order) and the removed pieces, sorted by source offset. Removed text is struck through in its
category's colour with the rule in the tooltip; a removed duplicate links to the paragraph it
duplicates, which is highlighted in its own document.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from cleaner.report.colours import DUPLICATE_CATEGORY

MAX_CHARS = 30_000  # per document; longer sources are cut in the view, never in the data


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    kind: str  # kept, removed, duplicate
    text: str
    item: dict[str, Any]


class DocumentView:
    """Renders sampled records; knows all of them so duplicate links can point inside the page."""

    def __init__(self, records: list[dict[str, Any]], colours: dict[str, str]) -> None:
        self._colours = colours
        self._kept_ranges = {r.get("id"): [tuple(k["chars"]) for k in _meta(r).get("kept", [])] for r in records}
        self._targets: dict[str, set[tuple[int, int]]] = defaultdict(set)
        for record in records:
            for dup in _meta(record).get("duplicates", []):
                original = dup.get("duplicate_of") or {}
                if original.get("id") in self._kept_ranges and original.get("chars"):
                    self._targets[original["id"]].add(tuple(original["chars"]))

    def render(self, record: dict[str, Any]) -> str:
        meta = _meta(record)
        doc_id = str(record.get("id", ""))
        source = meta.get("source", {})
        path = str(source.get("path", ""))
        pieces, consistent = _pieces(record)
        body, cut = self._body(doc_id, pieces) if pieces else (escape(str(record.get("text", ""))), False)
        rejection = meta.get("rejection")
        removed_chars = sum(p.end - p.start for p in pieces if p.kind != "kept")
        facts = [f'<span class="chip lang">{escape(str(record.get("lang", "und")))} '
                 f'{float(record.get("lang_score") or 0):.2f}</span>']
        if source.get("record") is not None:
            facts.append(f'<span class="chip">record {int(source["record"])}</span>')
        facts.append(f'<span class="chip">{len(record.get("text", "")):,} chars kept</span>')
        if removed_chars:
            facts.append(f'<span class="chip removed">{removed_chars:,} chars removed</span>')
        if rejection:
            facts.append(f'<span class="chip rejected">rejected: {escape(str(rejection.get("reason", "")))}</span>')
        notes = []
        if not consistent:
            notes.append("The kept ranges in this record do not add up to its text; the view may be misaligned.")
        if cut:
            notes.append(f"Only the first {MAX_CHARS:,} characters of the source are shown.")
        url = source.get("url")
        link = f'<a class="url" href="{escape(url)}" rel="noreferrer">{escape(url)}</a>' if url else ""
        return (
            f'<article class="doc{" is-rejected" if rejection else ""}" id="doc-{escape(doc_id)}" '
            f'data-path="{escape(path.lower())}" data-id="{escape(doc_id)}">'
            f'<header><h3 class="path">{escape(path) or "(no path)"}</h3>{link}'
            f'<div class="facts">{"".join(facts)}<code class="docid">{escape(doc_id)}</code></div></header>'
            + "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
            + f'<div class="text">{body}</div></article>'
        )

    def _body(self, doc_id: str, pieces: list[_Piece]) -> tuple[str, bool]:
        out: list[str] = []
        shown = 0
        for piece in pieces:
            if shown >= MAX_CHARS:
                return "".join(out), True
            shown += len(piece.text)
            if piece.kind == "kept":
                out.append(self._kept(doc_id, piece))
            elif piece.kind == "removed":
                out.append(self._removed(piece))
            else:
                out.append(self._duplicate(piece))
        return "".join(out), False

    def _kept(self, doc_id: str, piece: _Piece) -> str:
        targets = sorted(t for t in self._targets.get(doc_id, ()) if piece.start <= t[0] < piece.end)
        if not targets:
            return escape(piece.text)
        out: list[str] = []
        cursor = piece.start
        for start, end in targets:
            if start < cursor:
                continue  # overlaps an earlier highlighted original
            end = min(end, piece.end)
            marked = piece.text[start - piece.start : end - piece.start].rstrip("\r\n")
            out.append(escape(piece.text[cursor - piece.start : start - piece.start]))
            out.append(
                f'<mark class="original" id="doc-{escape(doc_id)}-c{start}" title="kept original of a removed duplicate">'
                f"{escape(marked)}</mark>"
            )
            cursor = start + len(marked)
        out.append(escape(piece.text[cursor - piece.start :]))
        return "".join(out)

    def _removed(self, piece: _Piece) -> str:
        rule = str(piece.item.get("rule", ""))
        category = str(piece.item.get("category", ""))
        first, last = piece.item.get("lines", ["?", "?"])
        tip = f"{rule} ({category}), lines {first}-{last}"
        return (
            f'<del class="rm" style="--c:{self._colours.get(category, "#888")}" data-rule="{escape(rule)}" '
            f'data-category="{escape(category)}" title="{escape(tip)}">{escape(piece.text)}</del>'
        )

    def _duplicate(self, piece: _Piece) -> str:
        original = piece.item.get("duplicate_of") or {}
        target_id = str(original.get("id", ""))
        span = original.get("chars") or [None]
        lines = original.get("lines") or ["?", "?"]
        similarity = piece.item.get("jaccard")
        estimate = piece.item.get("jaccard_estimate")
        tip = f"{piece.item.get('rule', 'duplicate')}: duplicate of {original.get('path', target_id)} lines {lines[0]}-{lines[-1]}"
        if similarity is not None:
            tip += f", Jaccard {float(similarity):.2f}"
        if estimate is not None:
            tip += f" (estimate {float(estimate):.2f})"
        if target_id in self._kept_ranges:
            anchor = f"doc-{target_id}"
            if any(s <= (span[0] if span[0] is not None else -1) < e for s, e in self._kept_ranges[target_id]):
                anchor += f"-c{span[0]}"
            link = f'<a class="dup-link" href="#{escape(anchor)}" title="go to the original">&#8599;</a>'
        else:
            link = '<span class="dup-link off" title="the original is not in the sampled documents">&#8599;</span>'
        body = piece.text.rstrip("\r\n")  # the link goes right after the text, not on the next line
        return (
            f'<del class="rm dup" style="--c:{self._colours[DUPLICATE_CATEGORY]}" data-rule="{escape(str(piece.item.get("rule", "")))}" '
            f'data-category="{DUPLICATE_CATEGORY}" data-duplicate-of="{escape(target_id)}" title="{escape(tip)}">'
            f"{escape(body)}</del>{link}{escape(piece.text[len(body):])}"
        )


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    meta = record.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _pieces(record: dict[str, Any]) -> tuple[list[_Piece], bool]:
    """All spans of the source in order, and whether the kept ranges account for ``text``."""
    meta = _meta(record)
    text = str(record.get("text", ""))
    pieces: list[_Piece] = []
    offset = 0
    for kept in meta.get("kept", []):
        start, end = kept["chars"]
        pieces.append(_Piece(start, end, "kept", text[offset : offset + end - start], kept))
        offset += end - start
    for key, kind in (("removed", "removed"), ("duplicates", "duplicate")):
        for item in meta.get(key, []):
            start, end = item["chars"]
            pieces.append(_Piece(start, end, kind, str(item.get("text", "")), item))
    pieces.sort(key=lambda p: (p.start, p.end))
    return pieces, offset == len(text) or not pieces
