"""Corpus-wide deduplication: exact and near-duplicate paragraphs, recurring boilerplate lines,
and whole duplicate documents, resolved in input order with a pointer for every removal.

Two phases, so the expensive part runs in parallel:

    fp = fingerprint(texts, settings)           # phase 1, any process, any order
                                                # (fingerprint_many: several documents per call)
    dedup = Deduplicator(settings, state)       # phase 2, in input order
    dedup.add(doc_id, path, paragraph_refs, fp)
    decisions = dedup.resolve().by_document()   # {doc_id: DocumentDecision} for docs that lose something
    dedup.state().save(state_dir)               # for the next incremental run

Paragraph units are the kept non-blank lines of a document after boilerplate stripping.
Normalisation (normalize.py), shingles and signatures (minhash.py), the decision rules
(engine.py) and the saved state (state.py) each document their part of the semantics.
"""

from cleaner.dedup.engine import Deduplicator
from cleaner.dedup.fingerprint import DocFingerprint, fingerprint, fingerprint_many
from cleaner.dedup.records import DocumentDecision, ParagraphRef
from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.state import DedupState, StateError

__all__ = [
    "DedupSettings",
    "DedupState",
    "Deduplicator",
    "DocFingerprint",
    "DocumentDecision",
    "ParagraphRef",
    "StateError",
    "fingerprint",
    "fingerprint_many",
]
