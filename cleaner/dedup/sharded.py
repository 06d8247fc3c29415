"""Phase 2 of deduplication as map and reduce steps over files: the driver holds O(tasks).

The decisions, in the order they are applied (each step below says where it is computed):

1. Paragraphs whose normalised text is empty (only punctuation or symbols) are ignored.
2. Recurring boilerplate, for short paragraphs only (settings: at most recurring_max_words
   normalised words and short_max_chars characters: headings, list items, table rows). One
   whose normalised text occurs in >= recurring_min_docs distinct documents of the same site
   (records.site_key: URL host, else directory) is removed from every document of this run,
   the first one included: rule "dedup.recurring", detail {"documents": n}. One that reaches
   that count only across sites is removed only where it also looks like boilerplate
   (shape.py): rule "dedup.recurring_across_sites". Counts include earlier runs in the state;
   earlier runs' output is not rewritten. Documents that are mostly exact copies of an earlier
   document (the same page dumped again) are not counted.
3. Navigation copies: inside one document, a short paragraph whose text appears again in the
   same document is the table of contents' or the menu's copy of a heading when it is not
   followed by prose (a long paragraph) while another copy is: it is removed with a pointer to
   the first copy that is, rule "dedup.navigation_copy". A text with no such copy whose every
   copy is a boilerplate-shaped line in a list (a menu or share bar printed above and below
   the article) goes everywhere in the document, rule "dedup.repeated_menu". Other repeated
   short paragraphs (table cells, code, list items) all stay: short paragraphs never go
   through steps 4 and 5.
4. Every long paragraph joins a cluster: paragraphs with the same normalised text (exact
   hash) are linked; paragraphs with >= min_shingles shingles are also linked when MinHash LSH
   proposes them as candidates and the exact Jaccard of their shingle sets is >= threshold.
   Clusters are connected components, so A~B and B~C put A, B, C together.
5. In each cluster the earliest paragraph in input order (earlier runs first, then document
   ordinal, then position in the document) is kept; every other member is removed with a
   pointer to it and the estimated and exact Jaccard similarity to it: rule "dedup.exact" when
   the normalised texts are equal, "dedup.near" otherwise. A member whose kept paragraph is in
   its own document stays unless settings.within_document is "remove" (the training preset).
6. A document whose paragraphs (recurring ones excepted) are, by characters, at least
   duplicate_document_fraction duplicates of ONE earlier document is rejected whole:
   Rejection("duplicate_document", {"duplicate_of": {"id", "path"}, "fraction"}).

Paragraphs are numbered (gid) in input order: earlier runs' first, then task by task, then in
line order, and documents likewise, so "earliest" is "smallest number". Below, a "task" is a
dedup task: a run of consecutive phase-1 tasks with up to `job.TASK_BYTES` of fingerprints
(`group_tasks`), read as one batch; each phase-1 task still gets its own decisions. The steps,
each run through a `Spread` (a process pool, Ray actors, or this process), each call reading
its inputs from the scratch location and writing its outputs there (`shuffle.py`):

- partition (per task): checks the task's batch, writes its chunk (places, exact hashes,
  shingles, document ids: what other steps and later runs look paragraphs up in) and its
  exact-hash rows cut into 2**bits hash ranges. The driver numbers tasks from the counts.
- ids, exact (per range): a document id seen twice is refused; per text, the earliest
  paragraph (the exact-copy leader) and the earliest document holding it as a long paragraph.
- keys (per task): documents that are copies of earlier ones; the short lines' keys for
  counting (per site and across sites) and the LSH band hashes of the exact leaders.
- counts, bands (per range): document counts per line; LSH buckets into candidate pairs,
  capped as `band_pairs` does, sent to the task of their later paragraph.
- verify (per task): the exact Jaccard of its candidate pairs (the earlier paragraph's
  shingles read by offset from its chunk); edges of the cluster graph.
- components (`labels.py`): earlier runs' labels of the paragraphs the edges touch, then
  label propagation by rounds over range-partitioned edges; cluster sizes.
- decide (per task): the decisions, with targets read from the owning chunks.

With a state, this run's chunks and tables are written into the state's new run directory
and become the next run's `Prior` once committed (see state.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np

from cleaner import storage
from cleaner.dedup import resolve
from cleaner.dedup.arrays import save_array
from cleaner.dedup.columns import distinct
from cleaner.dedup.components import Spread
from cleaner.dedup.decide import count_texts, decide
from cleaner.dedup.decisions import Decisions
from cleaner.dedup.jaccard import pair_jaccard
from cleaner.dedup.job import PARA_ROW, Job, Paragraphs, Shape, id_hashes, pair_batches, rows_of, scatter
from cleaner.dedup.labels import components, write_edges
from cleaner.dedup.prior import BAND_ROW, COUNT_ROW, EXACT_ROW, ID_ROW, Prior
from cleaner.dedup.records import DedupBatch, DedupStats
from cleaner.dedup.resolve import band_pairs, copy_documents
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.shuffle import dump, exists, key_range, load, merge_sources, read_part, write_parts
from cleaner.dedup.tokens import fmix64, word_hash

_NONE = np.iinfo(np.int64).max

# -- the steps ----------------------------------------------------------------------------

def _check(batch: DedupBatch, settings: DedupSettings) -> np.ndarray:
    """The batch's shape, as phase 1 must have made it; returns each paragraph's document."""
    fp, refs, paths = batch.fingerprint, batch.refs, batch.paths
    counts = fp.counts
    if not len(batch.doc_ids) == len(paths) == len(batch.sites) == len(counts):
        raise ValueError(f"{len(batch.doc_ids)} documents, {len(paths)} paths, {len(batch.sites)} sites "
                         f"and {len(counts)} fingerprints")
    where = paths[0] if paths else "?"
    if len(refs) != int(counts.sum()) or len(fp.exact) != len(refs) or len(batch.boilerplate_like) != len(refs):
        raise ValueError(f"{where}: {len(refs)} paragraphs but fingerprints of {len(fp.exact)} "
                         f"and shapes of {len(batch.boilerplate_like)}")
    if fp.bands.shape[1] != settings.bands:
        raise ValueError(f"{where}: fingerprint has {fp.bands.shape[1]} LSH bands, the settings {settings.bands}")
    owner = np.repeat(np.arange(len(counts)), counts)
    disordered = (np.diff(refs[:, 0]) <= 0) & (owner[1:] == owner[:-1])
    if disordered.any():
        raise ValueError(f"{paths[int(owner[1:][disordered][0])]}: dedup paragraphs must be given in line order")
    return owner


def partition(job: Job, task: int) -> tuple[int, int, int]:
    """Check the task's batch, write its chunk and its exact-hash and document-id rows;
    return its (documents, paragraphs, bytes of shingles and band hashes)."""
    batch = job.batch(task)
    chunk = job.chunk(task)
    if batch is None:
        dump(chunk, "docs.pkl", ([], []), durable=job.keep_tables)
        save_array(storage.join(chunk, "para.npy"), np.zeros(0, dtype=PARA_ROW), durable=job.keep_tables)
        save_array(storage.join(chunk, "shingles.npy"), np.zeros(0, dtype=np.uint32), durable=job.keep_tables)
        return 0, 0, 0
    owner = _check(batch, job.settings)
    fp, shape = batch.fingerprint, Shape.of(batch, job.settings)
    para = np.zeros(len(owner), dtype=PARA_ROW)
    para["doc"] = owner
    for column, name in enumerate(("first", "last", "start", "end"), start=1):
        para[name] = batch.refs[:, column]
    para["exact"] = fp.exact
    para["count"] = np.where(shape.long, fp.sizes, 0)
    para["at"] = np.cumsum(para["count"]) - para["count"]
    dump(chunk, "docs.pkl", (list(batch.doc_ids), list(batch.paths)), durable=job.keep_tables)
    save_array(storage.join(chunk, "para.npy"), para, durable=job.keep_tables)
    save_array(storage.join(chunk, "shingles.npy"), np.asarray(fp.shingles, dtype=np.uint32), durable=job.keep_tables)
    keep = np.flatnonzero(shape.long | shape.active)
    write_parts(job.scratch, "exact", task, key_range(fp.exact[keep], job.bits),
                {"key": fp.exact[keep], "local": keep, "doc": owner[keep], "active": shape.active[keep],
                 "long": shape.long[keep]})
    ids = id_hashes(batch.doc_ids)
    write_parts(job.scratch, "ids", task, key_range(ids, job.bits), {"key": ids, "doc": np.arange(len(ids))})
    return len(batch.doc_ids), len(owner), fp.shingles.nbytes + fp.bands.nbytes


def check_ids(job: Job, part: int) -> None:
    """Refuse a document id given twice (in this run, or already in the state)."""
    rows, sources = read_part(job.scratch, "ids", part, {"key": np.uint64, "doc": np.int64})
    doc = job.doc_base[sources] + rows["doc"]
    order = np.lexsort((doc, rows["key"]))
    key, doc = rows["key"][order], doc[order]
    keys, first = np.unique(key, return_index=True)
    again = np.r_[False, key[1:] == key[:-1]]
    again[first[job.prior.has_ids(part, keys)]] = True
    if again.any():
        doc_id, path = Paragraphs(job).documents(doc[again][:1])[0]
        raise ValueError(f"{path}: document id {doc_id} added to dedup twice")
    job.table("ids", part, rows_of(ID_ROW, key=key, doc=doc))


def group_exact(job: Job, part: int) -> None:
    """Per text: its leader (the earliest paragraph with it, earlier runs first) and its
    origin (the earliest document holding it as a long paragraph). Every row learns both."""
    rows, sources = read_part(job.scratch, "exact", part, {"key": np.uint64, "local": np.int64, "doc": np.int64,
                                                           "active": bool, "long": bool})
    if not len(sources):
        return
    gid = job.para_base[sources] + rows["local"]
    doc = job.doc_base[sources] + rows["doc"]
    order = np.lexsort((gid, rows["key"]))
    key, gid, doc, sources = rows["key"][order], gid[order], doc[order], sources[order]
    active, long, local = rows["active"][order], rows["long"][order], rows["local"][order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    group = np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1
    prior = job.prior.exact(part, key[starts])
    found = prior["gid"] >= 0
    position = np.arange(len(key))
    first_active = np.minimum.reduceat(np.where(active, position, _NONE), starts)
    first_long = np.minimum.reduceat(np.where(long, position, _NONE), starts)
    has_active = first_active < _NONE
    leader = np.where(found, prior["gid"], np.where(has_active, gid[np.minimum(first_active, len(key) - 1)], -1))
    run_origin = np.where(first_long < _NONE, doc[np.minimum(first_long, len(key) - 1)], -1)
    origin = np.where(found & prior["long"], prior["doc"], run_origin)
    is_leader = active & (gid == leader[group])
    write_parts(job.scratch, "exact_out", part, sources,
                {"local": local, "origin": np.where(long, origin[group], -1),
                 "link": np.where(active & ~is_leader, leader[group], -1), "leader": is_leader})
    new = ~found & has_active
    at = first_active[new]
    job.table("exact", part, rows_of(EXACT_ROW, key=key[starts][new], gid=gid[at], doc=doc[at], long=long[at]))


def task_keys(job: Job, task: int) -> None:
    """The task's copy documents, its short lines' counting keys and its leaders' band hashes."""
    batch = job.batch(task)
    if batch is None:
        return
    s, fp, shape = job.settings, batch.fingerprint, Shape.of(batch, job.settings)
    n = len(shape.owner)
    found, _ = read_part(job.scratch, "exact_out", task, {"local": np.int64, "origin": np.int64, "link": np.int64,
                                                         "leader": bool})
    origin = scatter(n, found, "origin", -1)
    leader = scatter(n, found, "leader", False)
    dump(job.scratch, f"links/{task:08d}.pkl", scatter(n, found, "link", -1))
    doc = job.doc_base[task] + shape.owner
    copies = copy_documents(doc[shape.long], origin[shape.long], shape.chars[shape.long], s.duplicate_document_fraction)
    counting = shape.short & ~np.isin(doc, copies)
    site_hashes = np.array([word_hash(site) for site in batch.sites], dtype=np.uint64)
    short = np.flatnonzero(shape.short)
    site_text = fmix64(site_hashes[shape.owner[short]] ^ fmix64(fp.exact[short]))
    for step, keys in (("site", site_text), ("text", fp.exact[short])):
        write_parts(job.scratch, step, task, key_range(keys, job.bits),
                    {"key": keys, "local": short, "doc": shape.owner[short], "counting": counting[short]})
    slots = np.cumsum(shape.long) - 1
    holders = np.flatnonzero(shape.long & leader)
    assert s.bands is not None
    hashes = fp.bands[slots[holders]].ravel()
    write_parts(job.scratch, "bands", task, key_range(hashes, job.bits),
                {"key": hashes, "band": np.tile(np.arange(s.bands, dtype=np.int8), len(holders)),
                 "local": np.repeat(holders.astype(np.int32), s.bands)})  # 13 bytes a row, not 24


def group_counts(job: Job, part: int) -> None:
    """Document counts of the short lines' keys, per site and across sites, earlier runs'
    included; each row learns its key's count."""
    for step in ("site", "text"):
        rows, sources = read_part(job.scratch, step, part, {"key": np.uint64, "local": np.int64, "doc": np.int64,
                                                            "counting": bool})
        if not len(sources):
            continue
        key, doc, counting = rows["key"], job.doc_base[sources] + rows["doc"], rows["counting"]
        k, d = key[counting], doc[counting]
        order = np.lexsort((d, k))
        k, d = k[order], d[order]
        first = np.r_[True, (k[1:] != k[:-1]) | (d[1:] != d[:-1])] if len(k) else np.zeros(0, dtype=bool)
        counted, documents = np.unique(k[first], return_counts=True)
        queries = distinct(key)
        total = job.prior.counts(step, part, queries)
        total[np.searchsorted(queries, counted)] += documents
        write_parts(job.scratch, f"{step}_out", part, sources,
                    {"local": rows["local"], "count": total[np.searchsorted(queries, key)]})
        job.table(step, part, rows_of(COUNT_ROW, key=counted, documents=documents))


def group_bands(job: Job, part: int) -> None:
    """LSH buckets of this hash range into candidate pairs (`band_pairs`, earlier runs'
    members included), each sent to the task of its later paragraph."""
    rows, sources = read_part(job.scratch, "bands", part, {"key": np.uint64, "band": np.int8, "local": np.int32})
    if not len(sources):
        return
    gid = job.para_base[sources] + rows["local"]
    prior = job.prior.band_members(part, rows["key"], job.cap)
    band = np.concatenate([prior["band"], rows["band"]])
    holders = np.concatenate([prior["gid"], gid])
    values = np.concatenate([prior["key"], rows["key"]])
    # One sort for every band: by band, then hash, then paragraph, so each band's slice is in
    # the order band_pairs puts it in (and its own sort finds it sorted).
    order = np.lexsort((holders, values, band))
    band, holders, values = band[order], holders[order], values[order]
    cuts = np.searchsorted(band, np.arange(int(job.settings.bands or 0) + 1))
    pairs = np.concatenate([band_pairs(holders[low:high], job.n_prior, values[low:high], job.cap)
                            for low, high in zip(cuts[:-1].tolist(), cuts[1:].tolist())])
    write_parts(job.scratch, "pairs", part, job.owner(pairs[:, 1]), {"a": pairs[:, 0], "b": pairs[:, 1]})
    if job.keep_tables:
        mine = holders >= job.n_prior  # this run's rows, sorted by hash, band, paragraph for the table
        table = rows_of(BAND_ROW, key=values[mine], band=band[mine], gid=holders[mine])
        job.table("bands", part, table[np.lexsort((table["gid"], table["band"], table["key"]))])


def verify(job: Job, task: int) -> tuple[int, int]:
    """The exact Jaccard of the task's candidate pairs; the cluster graph's edges from this
    task (exact copies to their leader, verified pairs). Returns (pairs, verified)."""
    rows, _ = read_part(job.scratch, "pairs", task, {"a": np.int64, "b": np.int64})
    pairs = np.stack([rows["a"], rows["b"]], axis=1)
    if len(pairs):
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        pairs = pairs[np.r_[True, (pairs[1:] != pairs[:-1]).any(axis=1)]]
    paragraphs = Paragraphs(job)
    found = [pair_jaccard(*arguments) for arguments in pair_batches(pairs, paragraphs)]
    jaccard = np.concatenate(found) if found else np.zeros(0)
    linked = pairs[jaccard >= job.settings.threshold]
    links = load(job.scratch, f"links/{task:08d}.pkl") if exists(job.scratch, f"links/{task:08d}.pkl") \
        else np.zeros(0, dtype=np.int64)  # a task without a batch
    copies = np.flatnonzero(links >= 0)
    left = np.concatenate([job.para_base[task] + copies, linked[:, 0]])
    right = np.concatenate([links[copies], linked[:, 1]])
    write_edges(job, task, left, right)
    return len(pairs), len(linked)


def combine(parts: list[DedupStats]) -> DedupStats:
    """Field by field sums of the tasks' counts."""
    total = DedupStats()
    for part in parts:
        for item in fields(DedupStats):
            if item.name != "cluster_sizes":
                setattr(total, item.name, getattr(total, item.name) + getattr(part, item.name))
    return total


def deduplicate(tasks: list[range], read_batch: Callable[[int], DedupBatch | None],
                write_decisions: Callable[[int, Decisions], None], scratch: str, settings: DedupSettings,
                spread: Spread, bits: int, prior: Prior | None = None, out: str | None = None) -> tuple[DedupStats, Job]:
    """Resolve duplicates across the phase-1 tasks' batches (`read_batch(task)`; and `prior`,
    earlier runs), handing each task's `Decisions` to `write_decisions`. `tasks` are the dedup
    tasks, runs of consecutive phase-1 task numbers (`group_tasks`); keys are cut into 2**bits
    hash ranges, intermediate files go to `scratch`. With `out`, this run's chunks and tables go
    there, for a state to commit. Returns the stats and the numbering (for the state)."""
    job = Job(read_batch, write_decisions, scratch, out or f"{scratch}/run", tuple(tasks), settings, prior or Prior(), out is not None,
              bits, resolve.BUCKET_PAIRS_CAP)
    ranges = [(part,) for part in range(1 << job.bits)]
    own = [(task,) for task in range(len(tasks))]
    counts = np.array(list(spread(partition, own, (job,))), dtype=np.int64).reshape(-1, 3)
    merge_sources(job.scratch, spread, "exact", "ids")
    doc_base = job.prior.documents + np.r_[0, np.cumsum(counts[:, 0])].astype(np.int64)
    para_base = job.n_prior + np.r_[0, np.cumsum(counts[:, 1])].astype(np.int64)
    job = replace(job, doc_base=doc_base[:-1], para_base=para_base[:-1],
                  documents_end=int(doc_base[-1]), paragraphs_end=int(para_base[-1]))
    for step in (check_ids, group_exact):
        list(spread(step, ranges, (job,)))
    merge_sources(job.scratch, spread, "exact_out")
    list(spread(task_keys, own, (job,)))
    merge_sources(job.scratch, spread, "site", "text", "bands")
    for step in (group_counts, group_bands):
        list(spread(step, ranges, (job,)))
    merge_sources(job.scratch, spread, "site_out", "text_out", "pairs")
    verified = np.array(list(spread(verify, own, (job,))), dtype=np.int64).reshape(-1, 2)
    clusters, sizes = components(job, spread)
    stats = combine(list(spread(decide, own, (job,))))
    merge_sources(job.scratch, spread, "recurring")
    stats.recurring_texts = sum(spread(count_texts, ranges, (job,)))
    stats.candidate_pairs = stats.candidate_pairs_checked = int(verified[:, 0].sum())
    stats.candidate_pairs_linked = int(verified[:, 1].sum())
    stats.clusters, stats.cluster_sizes = clusters, sizes
    stats.spill_bytes = int(counts[:, 2].sum())
    return stats, job
