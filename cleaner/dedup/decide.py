"""The last step of the sharded deduplication, per task: its documents' decisions.

Everything a task's decisions need is either its own (its batch, its lines' document counts,
its paragraphs' cluster labels, all routed to it by the steps before) or read by gid from the
chunk that holds the paragraph or document a removal points at: the driver holds no table.
The rows are those one table for the whole run would hold for this task, in document and line order.
"""

from __future__ import annotations

import numpy as np

from cleaner.dedup.columns import distinct
from cleaner.dedup.decisions import (
    EXACT,
    NEAR,
    RECURRING,
    RECURRING_ACROSS,
    REJECTION,
    REMOVAL,
    Decisions,
    renumber_targets,
)
from cleaner.dedup.jaccard import pair_jaccard
from cleaner.dedup.job import Job, Paragraphs, Shape, pair_batches, scatter
from cleaner.dedup.minhash import signatures
from cleaner.dedup.records import DedupStats, join_batches
from cleaner.dedup.resolve import duplicate_documents, navigation_copies
from cleaner.dedup.shuffle import key_range, read_part, write_parts

NOT_RECURRING = -1  # the recurrence kind of a paragraph no recurrence rule removes
_COUNT = {"local": np.int64, "count": np.int64}


def _similarity(pairs: np.ndarray, paragraphs: Paragraphs, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(exact Jaccard, MinHash estimate) of each pair of paragraphs."""
    jaccard, estimate = [np.zeros(0)], [np.zeros(0)]
    for values, bounds, left, right in pair_batches(pairs, paragraphs):
        jaccard.append(pair_jaccard(values, bounds, left, right))
        sig = signatures(values, bounds, num_perm, seed)
        estimate.append(np.count_nonzero(sig[left] == sig[right], axis=1) / num_perm)
    return np.concatenate(jaccard), np.concatenate(estimate)


def decide(job: Job, task: int) -> DedupStats:
    """Steps 2, 3, 5 and 6 for the task's documents, written where the writers of its phase-1
    tasks read them."""
    stats = DedupStats()
    members = job.members(task)
    documents = [len(member.doc_ids) if member is not None else 0 for member in members]
    batch = join_batches(members)
    del members  # the joined batch is a copy: hold one
    if batch is None:
        for member in job.tasks[task]:
            job.write_decisions(member, Decisions([], np.zeros(0, dtype=REMOVAL), np.zeros(0, dtype=REJECTION), []))
        return stats
    s, fp, shape = job.settings, batch.fingerprint, Shape.of(batch, job.settings)
    n, n_docs = len(shape.owner), len(batch.doc_ids)
    refs = {name: batch.refs[:, column] for column, name in enumerate(("line", "first", "last", "start", "end"))}
    on_site = scatter(n, read_part(job.scratch, "site_out", task, _COUNT)[0], "count", 0)
    anywhere = scatter(n, read_part(job.scratch, "text_out", task, _COUNT)[0], "count", 0)
    site_wide = shape.short & (on_site >= s.recurring_min_docs)
    across = shape.short & ~site_wide & batch.boilerplate_like & (anywhere >= s.recurring_min_docs)
    kind_of = np.full(n, NOT_RECURRING, dtype=np.int8)
    kind_of[site_wide], kind_of[across] = RECURRING, RECURRING_ACROSS
    recurring = kind_of != NOT_RECURRING
    recurring_at = np.flatnonzero(recurring)
    navigation_at, bodies, navigation_kind = navigation_copies(
        shape.owner, fp.exact, shape.short & ~recurring, ~shape.short & (fp.words > 0), batch.boilerplate_like)

    gid = job.para_base[task] + np.arange(n)
    roots, _ = read_part(job.scratch, "roots", task, {"gid": np.int64, "label": np.int64})
    root = gid.copy()
    root[roots["gid"] - job.para_base[task]] = roots["label"]
    active = np.flatnonzero(shape.active)
    dup_at = active[root[active] != gid[active]]
    paragraphs = Paragraphs(job)
    target = paragraphs.rows(root[dup_at])
    doc = job.doc_base[task] + shape.owner
    if s.within_document == "keep":  # only copies of another document's paragraph go (see settings)
        elsewhere = target["doc"] != doc[dup_at]
        dup_at, target = dup_at[elsewhere], target[elsewhere]
    kind = np.where(fp.exact[dup_at] == target["exact"], EXACT, NEAR).astype(np.int8)
    jaccard, estimate = np.ones(len(dup_at)), np.ones(len(dup_at))
    near = kind == NEAR
    jaccard[near], estimate[near] = _similarity(np.stack([gid[dup_at][near], root[dup_at][near]], axis=1), paragraphs,
                                                s.num_perm, s.seed)

    n_recurring, n_navigation = len(recurring_at), len(navigation_at)
    at = np.concatenate([recurring_at, navigation_at, dup_at])
    removals = np.zeros(len(at), dtype=REMOVAL)
    removals["doc"], removals["line"] = shape.owner[at], refs["line"][at]
    removals["kind"] = np.concatenate([kind_of[recurring_at], navigation_kind, kind])
    removals["documents"][:n_recurring] = np.where(site_wide, on_site, anywhere)[recurring_at]
    removals["target"][:n_recurring] = -1
    pointing = removals[n_recurring:]  # a view: navigation copies, then duplicates
    pointing["target"] = np.concatenate([doc[bodies], target["doc"]])
    for name in ("first", "last", "start", "end"):
        pointing[name] = np.concatenate([refs[name][bodies], target[name]])
    duplicates = removals[n_recurring + n_navigation:]
    duplicates["estimate"], duplicates["jaccard"] = estimate, jaccard
    removals = removals[np.lexsort((removals["line"], removals["doc"]))]

    chars = shape.chars
    counted = np.bincount(shape.owner[~recurring], weights=chars[~recurring], minlength=n_docs)
    rejections = duplicate_documents(doc[dup_at], target["doc"], chars[dup_at], counted, int(job.doc_base[task]),
                                     s.duplicate_document_fraction)
    used = renumber_targets(removals, rejections)
    decisions = Decisions(list(batch.doc_ids), removals, rejections, paragraphs.documents(used))
    for member, piece in zip(job.tasks[task], decisions.split(documents)):
        job.write_decisions(member, piece)

    texts = distinct(fp.exact[recurring_at])
    write_parts(job.scratch, "recurring", task, key_range(texts, job.bits), {"key": texts})
    dup_chars = chars[dup_at]
    stats.documents, stats.paragraphs = n_docs, n
    stats.exact_paragraphs, stats.near_paragraphs = int((~near).sum()), int(near.sum())
    stats.exact_chars, stats.near_chars = int(dup_chars[~near].sum()), int(dup_chars[near].sum())
    stats.recurring_lines = n_recurring
    stats.recurring_across_sites_lines = int(across.sum())
    stats.recurring_chars = int(chars[recurring_at].sum())
    stats.navigation_copies = n_navigation
    stats.duplicate_documents = len(rejections)
    return stats


def count_texts(job: Job, part: int) -> int:
    """Distinct recurring texts in this hash range."""
    rows, _ = read_part(job.scratch, "recurring", part, {"key": np.uint64})
    return len(distinct(rows["key"]))
