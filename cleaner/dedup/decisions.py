"""Dedup decisions as columns: built with numpy per task, turned into claims where applied.

A large corpus loses a million paragraphs to deduplication. As rows of a numpy table a
removal costs ~80 bytes, a task's decisions pickle in a few copies, and the write workers
build the claim objects with their detail dicts in parallel (`Decisions.by_document`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaner.dedup.records import DocumentDecision
from cleaner.document import Claim, Rejection

RECURRING, EXACT, NEAR, RECURRING_ACROSS, NAVIGATION, REPEATED_MENU = 0, 1, 2, 3, 4, 5
_KIND_NAMES = {EXACT: "exact", NEAR: "near"}
_RECURRING_RULES = {RECURRING: "dedup.recurring", RECURRING_ACROSS: "dedup.recurring_across_sites"}

# One row per removed paragraph. `doc` indexes the decisions' documents; `target` (duplicates
# and navigation copies, else -1) indexes their table of documents pointed at; `documents` is a
# recurring line's document count; lines/chars locate the paragraph pointed at.
REMOVAL = np.dtype([
    ("doc", np.int64), ("line", np.int64), ("kind", np.int8), ("documents", np.int64), ("target", np.int64),
    ("first", np.int64), ("last", np.int64), ("start", np.int64), ("end", np.int64),
    ("estimate", np.float64), ("jaccard", np.float64),
])
# One row per document rejected as a duplicate of one earlier document.
REJECTION = np.dtype([("doc", np.int64), ("target", np.int64), ("fraction", np.float64)])


def renumber_targets(removals: np.ndarray, rejections: np.ndarray) -> np.ndarray:
    """The distinct targets these rows point at, sorted; each row's target (-1: none) becomes
    its place among them, in place, so the rows index a table of just those targets."""
    used = np.unique(np.concatenate([removals["target"][removals["target"] >= 0], rejections["target"]]))
    for rows in (removals, rejections):
        points = rows["target"] >= 0
        rows["target"][points] = np.searchsorted(used, rows["target"][points])
    return used


@dataclass(frozen=True)
class Decisions:
    """What deduplication decided for a run of consecutive documents (one task's).

    `removals` is sorted by (doc, line) and `rejections` by doc; `targets` holds (id, path) of
    every document a row points at.
    """

    doc_ids: list[str]
    removals: np.ndarray
    rejections: np.ndarray
    targets: list[tuple[str, str]]

    def split(self, documents: list[int]) -> list[Decisions]:
        """The decisions of consecutive runs of this many documents each (the phase-1 tasks a
        dedup task covers), each with its own table of targets, as if decided alone."""
        pieces, first = [], 0
        for count in documents:
            end = first + count
            removals = self.removals[(self.removals["doc"] >= first) & (self.removals["doc"] < end)]
            rejections = self.rejections[(self.rejections["doc"] >= first) & (self.rejections["doc"] < end)]
            removals["doc"] -= first
            rejections["doc"] -= first
            used = renumber_targets(removals, rejections)
            pieces.append(Decisions(self.doc_ids[first:end], removals, rejections,
                                    [self.targets[at] for at in used.tolist()]))
            first = end
        return pieces

    def by_document(self) -> dict[str, DocumentDecision]:
        """{doc_id: DocumentDecision} for the documents that lose something, in document order."""
        removals: dict[int, list[tuple[int, Claim]]] = {}
        columns = (self.removals[name].tolist() for name in REMOVAL.names)
        for doc, line, kind, documents, target, first, last, start, end, estimate, jaccard in zip(*columns):
            if kind in _RECURRING_RULES:
                claim = Claim(_RECURRING_RULES[kind], "recurring", {"documents": documents})
            elif kind == NAVIGATION:
                claim = Claim("dedup.navigation_copy", "navigation", {"body_copy": {"lines": [first, last], "chars": [start, end]}})
            elif kind == REPEATED_MENU:
                claim = Claim("dedup.repeated_menu", "navigation", {"other_copy": {"lines": [first, last], "chars": [start, end]}})
            else:
                target_id, target_path = self.targets[target]
                claim = Claim(f"dedup.{_KIND_NAMES[kind]}", "duplicate", {
                    "duplicate_of": {"id": target_id, "path": target_path, "lines": [first, last], "chars": [start, end]},
                    "jaccard_estimate": round(estimate, 4),
                    "jaccard": round(jaccard, 4),
                })
            removals.setdefault(doc, []).append((line, claim))
        rejections = {}
        for doc, target, fraction in zip(*(self.rejections[name].tolist() for name in REJECTION.names)):
            target_id, target_path = self.targets[target]
            rejections[doc] = Rejection("duplicate_document", {
                "duplicate_of": {"id": target_id, "path": target_path},
                "fraction": round(fraction, 4),
            })
        return {self.doc_ids[doc]: DocumentDecision(removals.get(doc, []), rejections.get(doc))
                for doc in sorted(removals.keys() | rejections.keys())}
