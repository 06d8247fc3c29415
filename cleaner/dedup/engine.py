"""Phase 2 of deduplication: resolve duplicates across the whole corpus in input order.

Decisions, in the order they are applied:

1. Paragraphs whose normalised text is empty (only punctuation or symbols) are ignored.
2. Recurring boilerplate, for short paragraphs only (settings: at most recurring_max_words
   normalised words and short_max_chars characters: headings, list items, table rows). One
   whose normalised text occurs in >= recurring_min_docs distinct documents of the same site
   (records.site_key: URL host, else directory) is removed from every document of this run,
   the first one included: rule "dedup.recurring", detail {"documents": n}. One that reaches
   that count only across sites is removed only where it also looks like boilerplate
   (shape.py): rule "dedup.recurring_across_sites". Counts include earlier runs in the state;
   earlier runs' output is not rewritten.
3. Navigation copies: inside one document, a short paragraph whose text appears again in the
   same document is the table of contents' or the menu's copy of a heading when it is not
   followed by prose (a long paragraph) while another copy is: it is removed with a pointer to
   the first copy that is, rule "dedup.navigation_copy". A text with no such copy whose every
   copy is a boilerplate-shaped line in a list (shape.py: a menu or share bar printed above
   and below the article) goes everywhere in the document, rule "dedup.repeated_menu". Other
   repeated short paragraphs (table cells, code, list items) all stay: short paragraphs never
   go through steps 4 and 5.
4. Every long paragraph joins a cluster: paragraphs with the same normalised text (exact
   hash) are linked; paragraphs with >= min_shingles shingles are also linked when MinHash LSH
   proposes them as candidates and the exact Jaccard of their shingle sets is >= threshold.
   Clusters are connected components, so A~B and B~C put A, B, C together even when A and C
   are not similar themselves.
5. In each cluster the earliest paragraph in input order (earlier runs first, then document
   ordinal, then position in the document) is kept; every other member is removed with a
   pointer to it and the estimated and exact Jaccard similarity to it: rule "dedup.exact" when
   the normalised texts are equal, "dedup.near" otherwise. This covers repeats inside one
   document too.
6. A document whose paragraphs (recurring ones excepted) are, by characters, at least
   duplicate_document_fraction duplicates of ONE earlier document is rejected whole:
   Rejection("duplicate_document", {"duplicate_of": {"id", "path"}, "fraction"}). Its
   remaining paragraphs stay the kept representatives of their clusters (the rejected
   document is still written to the rejected output with its provenance).

Nothing depends on worker count or timing: paragraphs are numbered in the order `add_batch`
is called, a pair's Jaccard depends on the pair alone, and every cluster resolves to its smallest
number. That is why band grouping, verification and components may be spread over workers
(`Spread`): the Ray engine does, the local engine runs them in the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np

from cleaner.dedup.columns import Column
from cleaner.dedup.components import Spread, in_process, spread_components
from cleaner.dedup.decisions import (
    EXACT,
    NAVIGATION,
    NEAR,
    RECURRING,
    RECURRING_ACROSS,
    REJECTION,
    REMOVAL,
    REPEATED_MENU,
    Decisions,
)
from cleaner.dedup.jaccard import pair_jaccard
from cleaner.dedup.minhash import signatures
from cleaner.dedup.records import REF_COLUMNS, DedupBatch, DedupStats
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.state import DedupState, StateError
from cleaner.dedup.store import SpillFile
from cleaner.dedup.tokens import fmix64, word_hash

ResultT = TypeVar("ResultT")

# Candidates from one LSH bucket: every member is paired with at most this many earlier
# members of the bucket. Buckets are made of distinct texts (exact copies are linked by hash
# first), so real buckets are small; the cap only bounds pathological template text.
BUCKET_PAIRS_CAP = 64
# Candidate pairs whose exact Jaccard is computed in one call (see _verify, _similarity).
PAIR_BATCH = 4096
NOT_RECURRING = -1  # Recurrence.kind of a paragraph no recurrence rule removes


class LongSets(NamedTuple):
    """Where every paragraph's shingle set is in the spill file, if it has one."""

    slot: np.ndarray  # int64 per paragraph: its long-paragraph number, -1 if compared exactly only
    offsets: np.ndarray  # int64 per long paragraph (+ 1): where its shingles start
    counts: np.ndarray  # int32 per long paragraph: how many shingles it has


class Recurrence(NamedTuple):
    """Step 2 for this run's paragraphs, and the document counts to save for the next run."""

    kind: np.ndarray  # int8 per paragraph: RECURRING, RECURRING_ACROSS or NOT_RECURRING
    documents: np.ndarray  # int32 per paragraph: the document count that decided it
    site_table: tuple[np.ndarray, np.ndarray]  # (site-and-text key, documents), sorted by key
    text_table: tuple[np.ndarray, np.ndarray]  # (text hash, documents over all sites), sorted


@dataclass(frozen=True)
class Resolved:
    """What `_resolve` worked out, kept for `state()`: all paragraphs are numbered earlier runs'
    first (`n_prior` of them, arrays in `prior`), then this run's (arrays in `run`)."""

    run: dict[str, np.ndarray]
    prior: dict[str, np.ndarray]
    n_prior: int
    roots: np.ndarray  # int64 per paragraph: its cluster's representative
    short: np.ndarray  # bool per run paragraph: a heading, list item or table row (see settings)
    active: np.ndarray  # bool per run paragraph: clustered (long, with text)
    recurrence: Recurrence
    sets: LongSets


class Deduplicator:
    """Collects fingerprints in input order, then resolves duplicates once."""

    def __init__(self, settings: DedupSettings, state: DedupState | None = None, tmpdir: str | None = None,
                 spread: Spread | None = None) -> None:
        if state is not None and state.settings != settings:
            raise StateError("dedup state was built with other settings; use the same settings or a fresh state")
        self.settings = settings
        self.spread: Spread = spread or in_process
        prior = state if state is not None else DedupState(settings)
        assert settings.bands is not None
        # Earlier runs' shingles and band hashes go to the spill files first, so the files
        # hold every long paragraph in order; only the small per-paragraph arrays stay here.
        self._store = SpillFile("<u4", 1, tmpdir)
        self._shingles_handed_over = False  # to a state (see `state`), which closes the store
        for chunk in prior.shingles.chunks():
            self._store.append_bytes(chunk)
        self._bands = SpillFile("<u8", settings.bands, tmpdir)
        self._bands.append(prior.arrays["long_bands"])
        self._prior = DedupState(
            settings,
            inputs=set(prior.inputs),
            doc_ids=prior.doc_ids,
            doc_paths=prior.doc_paths,
            arrays={k: v for k, v in prior.arrays.items() if k != "long_bands"},
        )
        self._doc_ids = list(self._prior.doc_ids)
        self._doc_paths = list(self._prior.doc_paths)
        self._seen = set(self._doc_ids)
        self._first_run_doc = len(self._doc_ids)
        self._n_prior_long = self._bands.size
        self._cols = {
            "doc": Column(np.int32),
            "site": Column(np.uint64),
            "line_index": Column(np.int32),
            "first": Column(np.int32),
            "last": Column(np.int32),
            "start": Column(np.int64),
            "end": Column(np.int64),
            "exact": Column(np.uint64),
            "words": Column(np.int32),
            "long": Column(np.bool_),
            "boilerplate_like": Column(np.bool_),
        }
        self._long_count = Column(np.int32)
        self._resolved: Resolved | None = None
        self.stats = DedupStats()

    def add_batch(self, batch: DedupBatch) -> None:
        """Register a task's documents, in input order (see DedupBatch)."""
        if self._resolved is not None:
            raise RuntimeError("Deduplicator.add_batch() after resolve()")
        fp, refs, paths = batch.fingerprint, batch.refs, batch.paths
        counts = fp.counts
        if not len(batch.doc_ids) == len(paths) == len(batch.sites) == len(counts):
            raise ValueError(f"{len(batch.doc_ids)} documents, {len(paths)} paths, {len(batch.sites)} sites "
                             f"and {len(counts)} fingerprints")
        where = paths[0] if paths else "?"
        if len(refs) != int(counts.sum()) or len(fp.exact) != len(refs) or len(batch.boilerplate_like) != len(refs):
            raise ValueError(f"{where}: {len(refs)} paragraphs but fingerprints of {len(fp.exact)} "
                             f"and shapes of {len(batch.boilerplate_like)}")
        if fp.bands.shape[1] != self.settings.bands:
            raise ValueError(f"{where}: fingerprint has {fp.bands.shape[1]} LSH bands, the settings {self.settings.bands}")
        owner = np.repeat(np.arange(len(counts)), counts)
        disordered = (np.diff(refs[:, 0]) <= 0) & (owner[1:] == owner[:-1])
        if disordered.any():
            raise ValueError(f"{paths[int(owner[1:][disordered][0])]}: dedup paragraphs must be given in line order")
        new: set[str] = set()
        for doc_id, path in zip(batch.doc_ids, paths):
            if doc_id in self._seen or doc_id in new:
                raise ValueError(f"{path}: document id {doc_id} added to dedup twice")
            new.add(doc_id)
        self._seen |= new  # only once every check passed: a refused batch leaves nothing behind
        first_ordinal = len(self._doc_ids)
        self._doc_ids += batch.doc_ids
        self._doc_paths += paths
        cols = self._cols
        cols["doc"].append(first_ordinal + owner)
        site_hashes = np.array([word_hash(site) for site in batch.sites], dtype=np.uint64)
        cols["site"].append(site_hashes[owner])
        for column, name in enumerate(REF_COLUMNS):
            cols[name].append(refs[:, column])
        cols["exact"].append(fp.exact)
        cols["words"].append(fp.words)
        cols["boilerplate_like"].append(batch.boilerplate_like)
        long = fp.sizes > 0
        cols["long"].append(long)
        if long.any():
            # The store holds long paragraphs' shingles back to back in paragraph order, so
            # offsets are the running sum of the counts.
            self._store.append(fp.shingles)
            self._long_count.append(fp.sizes[long])
            self._bands.append(fp.bands)
    def resolve(self) -> Decisions:
        """The decisions for this run's documents, in the order they were added: `.split()` them
        into tasks' for the writers, `.by_document()` for {doc_id: DocumentDecision}.

        Computed once; the deduplicator keeps no reference to them, so a caller that hands them
        on (to the writers, task by task) frees them when it is done.
        """
        if self._resolved is not None:
            raise RuntimeError("Deduplicator.resolve() called twice")
        return self._resolve()

    def run_document_ids(self) -> list[str]:
        """This run's document ids in the order they were added."""
        return self._doc_ids[self._first_run_doc:]

    def state(self) -> DedupState:
        """The state to save for the next run: earlier runs plus everything this run indexed.

        The state streams its shingles from this deduplicator's spill file when it is saved, so
        it takes that file over: `close()` leaves it open and the state's own `close()` closes it.
        """
        if self._resolved is None:
            self._resolve()
        assert self._resolved is not None
        self._shingles_handed_over = True
        return self._build_state(self._resolved)

    def close(self) -> None:
        """Close the spill files it still holds (temporary: they are gone once closed)."""
        self._bands.close()
        if not self._shingles_handed_over:
            self._store.close()

    # -- resolution steps ---------------------------------------------------------------

    def _resolve(self) -> Decisions:
        s = self.settings
        prior = self._prior.arrays
        run = {name: col.take() for name, col in self._cols.items()}
        n_prior, n_run = len(prior["para_doc"]), len(run["doc"])
        short = (run["words"] > 0) & (run["words"] <= s.recurring_max_words) & (run["end"] - run["start"] <= s.short_max_chars)
        recurrence = self._recurring(run, short, self._copies(run, prior))
        active = (run["words"] > 0) & ~short
        active_ids = n_prior + np.flatnonzero(active)
        exact = np.concatenate([prior["para_exact"], run["exact"]])
        # Each paragraph's representative: earlier runs' clusters as saved, this run's paragraphs
        # alone; _link_exact points copies at their text's earliest paragraph.
        exact_roots = np.concatenate([prior["para_rep"], np.arange(n_prior, n_prior + n_run, dtype=np.int64)])
        leaders = self._link_exact(exact_roots, exact, n_prior, active_ids)
        long_counts = np.concatenate([np.diff(prior["long_offsets"]).astype(np.int32), self._long_count.take()])
        long_offsets = np.zeros(len(long_counts) + 1, dtype=np.int64)
        np.cumsum(long_counts, out=long_offsets[1:])
        run["long"] = np.where(run["long"], self._n_prior_long + np.cumsum(run["long"]) - 1, -1)
        sets = LongSets(np.concatenate([prior["para_long"], run["long"]]), long_offsets, long_counts)
        pairs = self._candidates(sets.slot, leaders, n_prior)
        checked, linked = self._verify(pairs, exact_roots, sets)
        roots = self._clusters(exact_roots, linked)
        self._resolved = Resolved(run, prior, n_prior, roots, short, active, recurrence, sets)
        decisions = self._decide(self._resolved, exact)
        self.stats.candidate_pairs = len(pairs)
        self.stats.candidate_pairs_checked = checked
        self.stats.candidate_pairs_linked = len(linked)
        self.stats.spill_bytes = self._store.size * 4 + self._bands.size * 8 * (self.settings.bands or 0)
        self._cluster_stats(roots, n_prior, active_ids)
        return decisions
    def _copies(self, run: dict[str, np.ndarray], prior: dict[str, np.ndarray]) -> np.ndarray:
        """Global ids of this run's documents whose long paragraphs are mostly exact copies of one
        earlier document: the same page dumped again.

        Such copies must not make their own title or subheadings "recurring": three dumps of one
        page are one page, and its title is content. Long paragraphs are never recurring, so this
        can be decided before the recurring lines are.
        """
        s = self.settings
        run_long = run["long"].astype(bool)
        hashes = np.concatenate([prior["para_exact"][prior["para_long"] >= 0], run["exact"][run_long]])
        docs = np.concatenate([prior["para_doc"][prior["para_long"] >= 0], run["doc"][run_long]])
        if not len(hashes):
            return np.zeros(0, dtype=np.int64)
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        origin = docs[first][inverse]  # the earliest document holding each long paragraph
        n_prior_long = int((prior["para_long"] >= 0).sum())
        own, source = docs[n_prior_long:], origin[n_prior_long:]
        chars = (run["end"] - run["start"])[run_long]
        totals = np.bincount(own - own.min(), weights=chars) if len(own) else np.zeros(0)
        copied = source != own
        if not copied.any():
            return np.zeros(0, dtype=np.int64)
        pairs, inverse_pairs = np.unique(np.stack([own[copied], source[copied]]), axis=1, return_inverse=True)
        amounts = np.bincount(inverse_pairs.ravel(), weights=chars[copied])
        fraction = amounts / totals[pairs[0] - own.min()]
        return np.unique(pairs[0][fraction >= s.duplicate_document_fraction])

    def _recurring(self, run: dict[str, np.ndarray], short: np.ndarray, copies: np.ndarray) -> Recurrence:
        """Step 2: which short paragraphs recur, on their site or (with a boilerplate shape)
        across sites. Documents in `copies` are not counted (see `_copies`), but lose their
        recurring lines like any other."""
        s = self.settings
        prior = self._prior.arrays
        counting = short & ~np.isin(run["doc"], copies)
        site_text = fmix64(run["site"] ^ fmix64(run["exact"]))
        on_site, site_table = _document_counts(site_text, run["doc"], counting,
                                               (prior["site_recurring_hash"], prior["site_recurring_docs"]))
        anywhere, text_table = _document_counts(run["exact"], run["doc"], counting,
                                                (prior["recurring_hash"], prior["recurring_docs"]))
        site_wide = short & (on_site >= s.recurring_min_docs)
        across = short & ~site_wide & run["boilerplate_like"] & (anywhere >= s.recurring_min_docs)
        kind = np.full(len(short), NOT_RECURRING, dtype=np.int8)
        kind[site_wide], kind[across] = RECURRING, RECURRING_ACROSS
        self.stats.recurring_texts = len(np.unique(run["exact"][kind != NOT_RECURRING]))
        return Recurrence(kind, np.where(site_wide, on_site, anywhere).astype(np.int32), site_table, text_table)
    def _link_exact(self, roots: np.ndarray, exact: np.ndarray, n_prior: int, active_ids: np.ndarray) -> np.ndarray:
        """Point this run's paragraphs (in `roots`) at the representative of the earliest
        paragraph with the same text.

        Returns the mask (over all paragraphs) of exact-group leaders: only they need LSH,
        copies follow their leader. Earlier runs' copies already point at their cluster's
        representative, so one vectorised assignment suffices.
        """
        ids = np.concatenate([np.arange(n_prior, dtype=np.int64), active_ids])  # ascending
        order = np.argsort(exact[ids], kind="stable")  # by text, then paragraph number
        sorted_ids = ids[order]
        del ids, order
        sorted_keys = exact[sorted_ids]
        starts = np.ones(len(sorted_ids), dtype=bool)
        starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
        del sorted_keys
        group_leader = sorted_ids[np.flatnonzero(starts)[np.cumsum(starts) - 1]]
        copies = (sorted_ids != group_leader) & (sorted_ids >= n_prior)
        roots[sorted_ids[copies]] = roots[group_leader[copies]]
        leaders = np.zeros(len(exact), dtype=bool)
        leaders[sorted_ids[starts]] = True
        return leaders

    def _candidates(self, long_of: np.ndarray, leaders: np.ndarray, n_prior: int) -> np.ndarray:
        """Sorted unique (a, b) pairs, a < b, sharing an LSH band, b from this run.

        Bands are independent, so they may be grouped anywhere (`self.spread`); the pairs are
        merged and sorted after.
        """
        s = self.settings
        assert s.bands is not None
        holders = np.flatnonzero((long_of >= 0) & leaders)  # ascending paragraph numbers
        slots = long_of[holders]
        columns = ((self._bands.column(band)[slots],) for band in range(s.bands))
        found = [pairs for pairs in self.spread(band_pairs, columns, (holders, n_prior)) if len(pairs)]
        if not found:
            return np.zeros((0, 2), dtype=np.int64)
        pairs = np.concatenate(found)
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        distinct = np.ones(len(pairs), dtype=bool)
        distinct[1:] = (pairs[1:] != pairs[:-1]).any(axis=1)
        return pairs[distinct]

    def _sets(self, paragraphs: np.ndarray, sets: LongSets) -> tuple[np.ndarray, np.ndarray]:
        """The shingle sets of these long paragraphs, back to back, and where each one starts."""
        slots = sets.slot[paragraphs]
        sizes = sets.counts[slots].astype(np.int64)
        bounds = np.zeros(len(paragraphs) + 1, dtype=np.int64)
        np.cumsum(sizes, out=bounds[1:])
        return self._store.gather(sets.offsets[slots], sizes), bounds

    def _pair_batches(self, pairs: np.ndarray,
                      sets: LongSets) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """`pair_jaccard` arguments for PAIR_BATCH pairs at a time; each set read once per batch.
        A generator, so only the batches in flight are in memory."""
        for begin in range(0, len(pairs), PAIR_BATCH):
            batch = pairs[begin:begin + PAIR_BATCH]
            paragraphs, where = np.unique(batch, return_inverse=True)
            where = where.reshape(batch.shape)
            values, bounds = self._sets(paragraphs, sets)
            yield values, bounds, where[:, 0], where[:, 1]

    def _verify(self, pairs: np.ndarray, exact_roots: np.ndarray, sets: LongSets) -> tuple[int, np.ndarray]:
        """The candidate pairs whose exact Jaccard reaches the threshold, as representative pairs.

        Pairs whose paragraphs already share a representative (exact copies, an earlier run's
        cluster) are not measured: linking them changes nothing. Returns the number of pairs
        measured and the linked pairs (representative of a, representative of b).
        """
        a, b = exact_roots[pairs[:, 0]], exact_roots[pairs[:, 1]]
        open_pairs = a != b
        measured = pairs[open_pairs]
        found = list(self.spread(pair_jaccard, self._pair_batches(measured, sets), ()))
        jaccard = np.concatenate(found) if found else np.zeros(0)
        similar = jaccard >= self.settings.threshold
        return len(measured), np.stack([a[open_pairs][similar], b[open_pairs][similar]], axis=1)

    def _clusters(self, exact_roots: np.ndarray, linked: np.ndarray) -> np.ndarray:
        """Every paragraph's cluster root: the earliest paragraph of its connected component."""
        nodes, labels = spread_components(self.spread, linked[:, 0], linked[:, 1])
        relabel = np.arange(len(exact_roots))
        relabel[nodes] = labels
        return relabel[exact_roots]

    def _decide(self, r: Resolved, exact: np.ndarray) -> Decisions:
        """Steps 2, 3, 5 and 6 as one table of removals and one of rejections, built with numpy."""
        run, n_prior = r.run, r.n_prior
        first_doc = self._first_run_doc
        n_docs = len(self._doc_ids) - first_doc
        doc_rel = run["doc"] - first_doc
        chars = run["end"] - run["start"]
        recurring = r.recurrence.kind != NOT_RECURRING
        recurring_at = np.flatnonzero(recurring)
        navigation_at, bodies, navigation_kind = _navigation_copies(
            run["doc"], run["exact"], r.short & ~recurring, ~r.short & (run["words"] > 0), run["boilerplate_like"])
        ids = n_prior + np.flatnonzero(r.active)
        dup_ids = ids[r.roots[ids] != ids]
        targets = r.roots[dup_ids]
        dup_at = dup_ids - n_prior
        kind = np.where(exact[dup_ids] == exact[targets], EXACT, NEAR).astype(np.int8)
        jaccard, estimate = np.ones(len(dup_ids)), np.ones(len(dup_ids))
        near = kind == NEAR
        jaccard[near], estimate[near] = self._similarity(dup_ids[near], targets[near], r.sets)
        target_doc = np.concatenate([r.prior["para_doc"], run["doc"]])[targets]

        n_recurring, n_navigation = len(recurring_at), len(navigation_at)
        at = np.concatenate([recurring_at, navigation_at, dup_at])
        removals = np.zeros(len(at), dtype=REMOVAL)
        removals["doc"], removals["line"] = doc_rel[at], run["line_index"][at]
        removals["kind"] = np.concatenate([r.recurrence.kind[recurring_at], navigation_kind, kind])
        removals["documents"][:n_recurring] = r.recurrence.documents[recurring_at]
        removals["target"][:n_recurring] = -1
        pointing = removals[n_recurring:]  # a view: navigation copies, then duplicates
        pointing["target"] = np.concatenate([run["doc"][bodies], target_doc])
        for name in ("first", "last", "start", "end"):
            pointing[name] = np.concatenate([run[name][bodies], np.concatenate([r.prior[f"para_{name}"], run[name]])[targets]])
        duplicates = removals[n_recurring + n_navigation:]
        duplicates["estimate"], duplicates["jaccard"] = estimate, jaccard
        removals = removals[np.lexsort((removals["line"], removals["doc"]))]

        counted = np.bincount(doc_rel[~recurring], weights=chars[~recurring], minlength=n_docs)
        rejections = self._duplicate_documents(doc_rel[dup_at], target_doc - first_doc, chars[dup_at], counted)
        dup_chars = chars[dup_at]
        stats = self.stats
        stats.documents, stats.paragraphs = n_docs, len(run["doc"])
        stats.exact_paragraphs, stats.near_paragraphs = int((~near).sum()), int(near.sum())
        stats.exact_chars, stats.near_chars = int(dup_chars[~near].sum()), int(dup_chars[near].sum())
        stats.recurring_lines = n_recurring
        stats.recurring_across_sites_lines = int((r.recurrence.kind == RECURRING_ACROSS).sum())
        stats.recurring_chars = int(chars[recurring_at].sum())
        stats.navigation_copies = n_navigation
        stats.duplicate_documents = len(rejections)
        return Decisions(self.run_document_ids(), removals, rejections, list(zip(self._doc_ids, self._doc_paths)))

    def _duplicate_documents(self, own: np.ndarray, source: np.ndarray, chars: np.ndarray, counted: np.ndarray) -> np.ndarray:
        """Step 5: for each document, the earlier document it copied most characters from (ties:
        the earliest), and the rejection if that share reaches duplicate_document_fraction.
        `own` and `source` are run-relative document numbers (earlier runs' are negative)."""
        elsewhere = source != own
        own, source, chars = own[elsewhere], source[elsewhere], chars[elsewhere]
        order = np.lexsort((source, own))
        own, source, chars = own[order], source[order], chars[order]
        starts = np.flatnonzero(np.r_[True, (own[1:] != own[:-1]) | (source[1:] != source[:-1])]) if len(own) else np.zeros(0, dtype=np.int64)
        pair_own, pair_source = own[starts], source[starts]
        amount = np.add.reduceat(chars, starts) if len(starts) else np.zeros(0, dtype=chars.dtype)
        best = np.lexsort((pair_source, -amount, pair_own))  # per document: most characters, then earliest
        first = best[np.r_[True, pair_own[best][1:] != pair_own[best][:-1]]] if len(best) else best
        docs, fraction = pair_own[first], np.zeros(len(first))
        has_text = counted[docs] > 0
        fraction[has_text] = amount[first][has_text] / counted[docs][has_text]
        chosen = has_text & (fraction >= self.settings.duplicate_document_fraction)
        rejections = np.zeros(int(chosen.sum()), dtype=REJECTION)
        rejections["doc"] = docs[chosen]
        rejections["target"] = pair_source[first][chosen] + self._first_run_doc
        rejections["fraction"] = fraction[chosen]
        return rejections

    def _similarity(self, members: np.ndarray, targets: np.ndarray, sets: LongSets) -> tuple[np.ndarray, np.ndarray]:
        """(exact Jaccard, MinHash estimate) of each near-duplicate paragraph and the paragraph it
        duplicates; PAIR_BATCH pairs per numpy call."""
        s = self.settings
        jaccard, estimate = [np.zeros(0)], [np.zeros(0)]
        for values, bounds, left, right in self._pair_batches(np.stack([members, targets], axis=1), sets):
            jaccard.append(pair_jaccard(values, bounds, left, right))
            sig = signatures(values, bounds, s.num_perm, s.seed)
            estimate.append(np.count_nonzero(sig[left] == sig[right], axis=1) / s.num_perm)
        return np.concatenate(jaccard), np.concatenate(estimate)

    def _cluster_stats(self, roots: np.ndarray, n_prior: int, active_ids: np.ndarray) -> None:
        touched = np.unique(roots[active_ids[roots[active_ids] != active_ids]])
        members = np.concatenate([np.arange(n_prior), active_ids])
        member_roots = roots[members]
        in_touched = np.isin(member_roots, touched)
        _, sizes = np.unique(member_roots[in_touched], return_counts=True)
        size_values, size_counts = np.unique(sizes, return_counts=True)
        self.stats.clusters = int(len(touched))
        self.stats.cluster_sizes = {str(int(v)): int(c) for v, c in zip(size_values, size_counts)}

    def _build_state(self, r: Resolved) -> DedupState:
        n_prior, kept = r.n_prior, np.flatnonzero(r.active)
        renumber = np.full(len(r.roots), -1, dtype=np.int64)
        renumber[:n_prior] = np.arange(n_prior)
        renumber[n_prior + kept] = n_prior + np.arange(len(kept))
        every = np.concatenate([np.arange(n_prior), n_prior + kept])
        names = {"para_doc": "doc", "para_first": "first", "para_last": "last", "para_start": "start", "para_end": "end", "para_exact": "exact", "para_long": "long"}
        arrays = {name: np.concatenate([r.prior[name], r.run[col][kept]]) for name, col in names.items()}
        arrays["para_rep"] = renumber[r.roots[every]]
        arrays["long_offsets"] = r.sets.offsets
        arrays["long_bands"] = self._bands.read(0, self._bands.size)
        arrays["recurring_hash"], arrays["recurring_docs"] = r.recurrence.text_table
        arrays["site_recurring_hash"], arrays["site_recurring_docs"] = r.recurrence.site_table
        return DedupState(
            settings=self.settings,
            inputs=set(self._prior.inputs),
            doc_ids=list(self._doc_ids),
            doc_paths=list(self._doc_paths),
            arrays=arrays,
            shingles=self._store,
        )


def band_pairs(holders: np.ndarray, n_prior: int, values: np.ndarray) -> np.ndarray:
    """Candidate pairs from one LSH band, as rows (a, b), a < b, b >= n_prior.

    `values` is the band's hash for each paragraph in `holders` (ascending paragraph numbers).
    Paragraphs with equal hashes form a bucket; each member is paired with at most
    BUCKET_PAIRS_CAP earlier members, the nearest ones, so the result depends only on the inputs.
    """
    order = np.argsort(values, kind="stable")  # equal hashes stay in paragraph order
    ordered = values[order]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    if starts.all():
        return np.zeros((0, 2), dtype=np.int64)
    members = holders[order]
    index = np.arange(len(ordered))
    bucket_start = np.maximum.accumulate(np.where(starts, index, 0))
    later = np.flatnonzero(~starts)
    earlier = np.minimum(later - bucket_start[later], BUCKET_PAIRS_CAP)
    offsets = np.arange(int(earlier.sum())) - np.repeat(np.cumsum(earlier) - earlier, earlier)
    left = members[np.repeat(later - earlier, earlier) + offsets]
    right = members[np.repeat(later, earlier)]
    keep = right >= n_prior
    return np.stack([left[keep], right[keep]], axis=1).astype(np.int64)


def _navigation_copies(doc: np.ndarray, exact: np.ndarray, candidate: np.ndarray, prose: np.ndarray,
                       shaped: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 3 over this run's paragraphs (in document and line order): the candidate paragraphs
    that are navigation copies, the paragraph each points at, and the kind of each.

    Among a document's candidates with the same text, a body heading sits between prose: the
    paragraph after it is long and the one before it is long too or absent. When a text has
    such a copy, its copies inside a list of short lines (the paragraph before or after is
    short: a table of contents, a menu) go and point at the first body copy (NAVIGATION).
    When it has none and every copy is a boilerplate-shaped line inside a list (a menu or a
    share bar printed above and below the article), every copy goes and points at another one
    (REPEATED_MENU). Repeated table cells and code lines are neither, so they all stay.
    """
    n = len(doc)
    same_before = np.r_[False, doc[1:] == doc[:-1]]
    same_after = np.r_[doc[1:] == doc[:-1], False]
    short = candidate | ~prose
    after_prose = np.r_[prose[1:], False] & same_after
    before_prose = ~same_before | np.r_[False, prose[:-1]]
    in_list = (same_before & np.r_[False, short[:-1]]) | (same_after & np.r_[short[1:], False])
    at = np.flatnonzero(candidate)
    at = at[np.lexsort((at, exact[at], doc[at]))]
    if not len(at):
        return at, at, np.zeros(0, dtype=np.int8)
    starts = np.flatnonzero(np.r_[True, (doc[at][1:] != doc[at][:-1]) | (exact[at][1:] != exact[at][:-1])])
    sizes = np.diff(np.r_[starts, len(at)])
    group = np.repeat(np.arange(len(starts)), sizes)
    body = after_prose[at] & before_prose[at]
    first_body = np.minimum.reduceat(np.where(body, at, n), starts)
    copy = ~body & in_list[at] & (first_body[group] < n)
    menu_like = shaped[at] & in_list[at]
    menu = ((sizes >= 2) & (first_body == n) & np.logical_and.reduceat(menu_like, starts))[group]
    first, second = at[starts], at[np.minimum(starts + 1, len(at) - 1)]
    other = np.where(at == first[group], second[group], first[group])
    removed = copy | menu
    target = np.where(copy, first_body[group], other)[removed]
    kind = np.where(copy, NAVIGATION, REPEATED_MENU).astype(np.int8)[removed]
    return at[removed], target, kind


def _document_counts(keys: np.ndarray, docs: np.ndarray, counting: np.ndarray,
                     table: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """How many distinct documents hold each paragraph's key: the `counting` paragraphs of
    this run plus earlier runs' counts in `table` (keys sorted, documents). Returns the count
    for every paragraph and the updated table."""
    old_keys, old_docs = table
    k, d = keys[counting], docs[counting]
    order = np.lexsort((d, k))
    k, d = k[order], d[order]
    distinct = np.ones(len(k), dtype=bool)
    distinct[1:] = (k[1:] != k[:-1]) | (d[1:] != d[:-1])
    hashes, run_docs = np.unique(k[distinct], return_counts=True)
    totals = (run_docs + _lookup(old_keys, old_docs, hashes)).astype(np.int32)
    unchanged = ~np.isin(old_keys, hashes)
    merged_keys = np.concatenate([old_keys[unchanged], hashes])
    merged_docs = np.concatenate([old_docs[unchanged], totals])
    order = np.argsort(merged_keys, kind="stable")
    merged = (merged_keys[order], merged_docs[order])
    return _lookup(*merged, keys), merged


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values at the position of each query in the sorted unique keys, 0 where absent."""
    if not len(keys):
        return np.zeros(len(queries), dtype=values.dtype)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[at] == queries, values[at], 0)
