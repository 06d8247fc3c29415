"""Exact Jaccard similarity of many pairs of shingle sets in one vectorised pass.

MinHash LSH only proposes candidates; every candidate pair is confirmed by the exact Jaccard of
the two paragraphs' shingle sets. Pairs come by the hundred thousand, so they are measured in
batches: the sets of a batch are laid out back to back, each value tagged with its pair, and
one sort brings every shared shingle next to its twin.
"""

from __future__ import annotations

import numpy as np

from cleaner.dedup.columns import run_indexes


def pair_jaccard(values: np.ndarray, bounds: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard of set left[k] and set right[k] for every k, as float64.

    Set s is values[bounds[s]:bounds[s + 1]], sorted and without repeats (shingle sets are), so
    a value shared by the two sets of a pair is exactly a value that occurs twice among them.
    Two empty sets are identical (1.0). The quotient is the same float as `|A & B| / |A | B|`
    computed in Python: both are the correctly rounded quotient of two integers below 2**53.
    """
    count = len(left)
    sets = np.concatenate([left, right])
    lengths = np.diff(bounds)[sets]
    index = run_indexes(bounds[sets], lengths)
    pair = np.repeat(np.arange(2 * count, dtype=np.uint64) % max(count, 1), lengths)
    keys = (pair << np.uint64(32)) | values[index].astype(np.uint64)
    keys.sort()
    shared = keys[1:][keys[1:] == keys[:-1]] >> np.uint64(32)
    inter = np.bincount(shared.astype(np.int64), minlength=count)
    union = lengths[:count] + lengths[count:] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)
