"""Normalisation, shingles and signatures: datasketch is the reference for MinHash."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cleaner.dedup import DedupSettings, fingerprint_batch
from cleaner.dedup.minhash import band_hashes, permutations, shingle_hash, shingle_sets, signatures
from cleaner.dedup.normalize import normalize_text
from cleaner.dedup.settings import candidate_probability, derive_bands
from cleaner.dedup.tokens import Tokenizer, word_hash

TEXTS = [
    "Der schnelle braune Fuchs springt über den faulen Hund, am 12.03.2024 um 10:15 Uhr!",
    "The QUICK brown fox — jumps over the lazy dog; it costs €1,299.00 (incl. VAT).",
    "ﬁnanzielle Straße ＡＢＣ １２３ Ⅻ",
    "kurz",
    "",
    "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn",
]


def test_normalisation_rules() -> None:
    assert normalize_text("Der  Fuchs, 2019!") == "der fuchs 0000"
    assert normalize_text("ﬁnanzielle Straße ＡＢＣ １２３") == "finanzielle strasse abc 000"
    assert normalize_text("e-mail  snake_case\tTab") == "email snakecase tab"
    assert normalize_text("*** --- ***") == ""


def _words(texts: list[str]) -> list[list[str]]:
    return [normalize_text(t).split() for t in texts]


@given(st.lists(st.text(), max_size=8))
@hsettings(max_examples=300, deadline=None)
def test_vectorised_word_hashes_equal_whole_text_normalisation(texts: list[str]) -> None:
    hashes, counts = Tokenizer().paragraph_words(texts)
    words = _words(texts)
    assert counts.tolist() == [len(w) for w in words]
    assert hashes.tolist() == [word_hash(w) for ws in words for w in ws]
    fp = fingerprint_batch([texts], DedupSettings())
    assert fp.counts.tolist() == [len(texts)] and len(fp.exact) == len(texts)


def test_word_hashes_of_tricky_whitespace_and_expansions() -> None:
    texts = ["foo\xa0bar\u2009baz", "x\x1cy\x85z", "\ufdfa", "\ud800 lone surrogate", "Ⅻ ⑴ ㏂"]
    hashes, counts = Tokenizer().paragraph_words(texts)
    words = _words(texts)
    assert counts.tolist() == [3, 3, 4, 2, 3] == [len(w) for w in words]
    assert hashes.tolist() == [word_hash(w) for ws in words for w in ws]


def test_vectorised_shingles_match_scalar_definition() -> None:
    words = _words(TEXTS)
    shingles, offsets = shingle_sets(*Tokenizer().paragraph_words(TEXTS), 5)
    for i, w in enumerate(words):
        expected = sorted({shingle_hash(tuple(w[j : j + 5])) for j in range(len(w) - 4)})
        assert shingles[offsets[i] : offsets[i + 1]].tolist() == expected


def test_signatures_equal_datasketch() -> None:
    words = _words(TEXTS)
    for num_perm, seed in [(128, 1), (64, 7)]:
        shingles, offsets = shingle_sets(*Tokenizer().paragraph_words(TEXTS), 3)
        ours = signatures(shingles, offsets, num_perm, seed)
        for i, w in enumerate(words):
            reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
            for j in range(len(w) - 2):
                reference.update(tuple(w[j : j + 3]))
            assert np.array_equal(ours[i], reference.hashvalues), (num_perm, seed, i)


def test_signatures_equal_datasketch_over_blocks() -> None:
    """Many paragraphs so the permutation is applied in several blocks."""
    rng = np.random.default_rng(3)
    sets = [np.unique(rng.integers(0, 2**32, size=n, dtype=np.uint64)).astype(np.uint32) for n in rng.integers(0, 400, 120)]
    shingles = np.concatenate(sets)
    offsets = np.concatenate(([0], np.cumsum([len(x) for x in sets])))
    ours = signatures(shingles, offsets, 128, 1)
    for i in [0, 1, 57, 119]:
        reference = MinHash(num_perm=128, seed=1, hashfunc=int)
        reference.update_batch(shingles[offsets[i] : offsets[i + 1]].tolist())
        assert np.array_equal(ours[i], reference.hashvalues)


def test_band_settings_follow_recall_rule() -> None:
    assert derive_bands(0.8, 128) == (16, 8)
    bands, rows = derive_bands(0.5, 128)
    assert candidate_probability(0.5, bands, rows) >= 0.9
    assert candidate_probability(0.5, 128 // (rows + 1), rows + 1) < 0.9


def test_band_hashes_depend_on_every_row() -> None:
    sig = np.arange(2 * 128, dtype=np.uint32).reshape(2, 128)
    changed = sig.copy()
    changed[1, 13] += 1  # band 1, row 5
    a, b = band_hashes(sig, 16, 8), band_hashes(changed, 16, 8)
    assert np.array_equal(a[0], b[0])
    assert (a[1] != b[1]).tolist() == [i == 1 for i in range(16)]


def test_fingerprint_is_picklable_and_marks_short_paragraphs() -> None:
    fp = fingerprint_batch([TEXTS], DedupSettings())
    again = pickle.loads(pickle.dumps(fp))
    assert np.array_equal(again.exact, fp.exact) and np.array_equal(again.bands, fp.bands)
    assert fp.words.tolist() == [14, 14, 5, 1, 0, 14]
    # long means >= 9 five-word shingles, i.e. at least 13 words
    assert (fp.sizes > 0).tolist() == [True, True, False, False, False, True]
    assert fp.bands.shape == (3, 16)


def test_batched_fingerprints_equal_single_ones() -> None:
    """A task's documents fingerprinted together give each document what it gets alone."""
    settings = DedupSettings()
    documents = [TEXTS, [], TEXTS[3:], [TEXTS[5]] * 3, TEXTS[::-1]]
    singles = [fingerprint_batch([d], settings) for d in documents]
    batched = fingerprint_batch(documents, settings)
    assert batched.counts.tolist() == [len(d) for d in documents]
    for name in ("exact", "words", "sizes", "shingles", "bands"):
        assert np.array_equal(np.concatenate([getattr(one, name) for one in singles]), getattr(batched, name)), name


@pytest.mark.parametrize("num_perm, seed", [(128, 1), (64, 7), (256, 42)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    a, b = permutations(num_perm, seed)
    expected_a, expected_b = MinHash(num_perm=num_perm, seed=seed).permutations
    assert np.array_equal(a, expected_a) and np.array_equal(b, expected_b)
    assert a.dtype == np.uint32 and b.dtype == np.uint32
