"""Corpus-wide deduplication: exact and near-duplicate paragraphs, recurring boilerplate lines,
navigation copies of headings, and whole duplicate documents, resolved in input order with a
pointer for every removal.

Two phases, so the expensive part runs in parallel:

    batch = DedupBatch(ids, paths, sites, refs, shapes,      # phase 1, any process, any order
                       fingerprint_batch(texts, settings))
    dedup = Deduplicator(settings, state)                    # phase 2, in input order
    dedup.add_batch(batch)
    decisions = dedup.resolve().by_document()   # {doc_id: DocumentDecision} for docs that lose something
    dedup.state().save(state_dir)               # for the next incremental run

Paragraph units are the kept non-blank lines of a document after boilerplate stripping.
Normalisation (normalize.py), shingles and signatures (minhash.py), line shapes (shape.py), the
decision rules (engine.py) and the saved state (state.py) each document their part of the semantics.
"""

from cleaner.dedup.engine import Deduplicator
from cleaner.dedup.fingerprint import FingerprintBatch, fingerprint_batch
from cleaner.dedup.records import DedupBatch, DocumentDecision, site_key
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.state import DedupState, StateError

__all__ = [
    "DedupBatch",
    "DedupSettings",
    "DedupState",
    "Deduplicator",
    "DocumentDecision",
    "FingerprintBatch",
    "StateError",
    "fingerprint_batch",
    "site_key",
]
