"""Corpus-wide deduplication: exact and near-duplicate paragraphs, recurring boilerplate lines,
navigation copies of headings, and whole duplicate documents, resolved in input order with a
pointer for every removal.

Two phases, so the expensive part runs in parallel:

    batch = DedupBatch(ids, paths, sites, refs, shapes,      # phase 1, per task, any process
                       fingerprint_batch(texts, settings))   # (spilled as <work>/<task>.dedup.pkl)
    state = DedupState.open(location, settings)              # phase 2: map/reduce steps over files
    stats, job = deduplicate(tasks, work, scratch, settings, spread, bits, state.prior(), state.new_run())
    state.commit(job, state.compact(job, spread), inputs)   # each task's Decisions are in <work>

Paragraph units are the kept non-blank lines of a document after boilerplate stripping.
Normalisation (normalize.py), shingles and signatures (minhash.py), line shapes (shape.py), the
decision rules and steps (sharded.py) and the saved state (state.py) each document their part.
"""

from cleaner.dedup.fingerprint import FingerprintBatch, fingerprint_batch
from cleaner.dedup.records import DedupBatch, DocumentDecision, site_key
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.sharded import deduplicate
from cleaner.dedup.state import DedupState, StateError

__all__ = [
    "DedupBatch",
    "DedupSettings",
    "DedupState",
    "DocumentDecision",
    "FingerprintBatch",
    "StateError",
    "deduplicate",
    "fingerprint_batch",
    "site_key",
]
