"""The per-paragraph rules of deduplication as pure numpy functions over a slice of rows.

Each takes the rows of one LSH bucket range, one task or one document and nothing else, so a
step of `sharded.py` applies it to its own slice in any worker and the result is the one a
single pass over the whole corpus would give.
"""

from __future__ import annotations

import numpy as np

from cleaner.dedup.decisions import NAVIGATION, REJECTION, REPEATED_MENU

# Candidates from one LSH bucket: every member is paired with at most this many earlier
# members of the bucket. Buckets are made of distinct texts (exact copies are linked by hash
# first), so real buckets are small; the cap only bounds pathological template text.
BUCKET_PAIRS_CAP = 64


def band_pairs(holders: np.ndarray, n_prior: int, values: np.ndarray, cap: int = BUCKET_PAIRS_CAP) -> np.ndarray:
    """Candidate pairs from one LSH band, as rows (a, b), a < b, b >= n_prior.

    `values` is the band's hash for each paragraph in `holders` (paragraph numbers, ascending
    among equal hashes).
    Paragraphs with equal hashes form a bucket; each member is paired with at most
    `cap` earlier members, the nearest ones, so the result depends only on the inputs.
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
    earlier = np.minimum(later - bucket_start[later], cap)
    offsets = np.arange(int(earlier.sum())) - np.repeat(np.cumsum(earlier) - earlier, earlier)
    left = members[np.repeat(later - earlier, earlier) + offsets]
    right = members[np.repeat(later, earlier)]
    keep = right >= n_prior
    return np.stack([left[keep], right[keep]], axis=1).astype(np.int64)


def navigation_copies(doc: np.ndarray, exact: np.ndarray, candidate: np.ndarray, prose: np.ndarray,
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


def copy_documents(own: np.ndarray, source: np.ndarray, chars: np.ndarray, fraction: float) -> np.ndarray:
    """Documents whose long paragraphs are, by characters, at least `fraction` copies of one
    earlier document: the same page dumped again. `own` is the document of each long
    paragraph (of whole documents), `source` the earliest document holding its text.

    Such copies must not make their own title or subheadings "recurring": three dumps of one
    page are one page, and its title is content.
    """
    if not len(own):
        return np.zeros(0, dtype=np.int64)
    totals = np.bincount(own - own.min(), weights=chars)
    copied = source != own
    if not copied.any():
        return np.zeros(0, dtype=np.int64)
    pairs, inverse_pairs = np.unique(np.stack([own[copied], source[copied]]), axis=1, return_inverse=True)
    amounts = np.bincount(inverse_pairs.ravel(), weights=chars[copied])
    share = amounts / totals[pairs[0] - own.min()]
    return np.unique(pairs[0][share >= fraction])


def duplicate_documents(own: np.ndarray, source: np.ndarray, chars: np.ndarray, counted: np.ndarray,
                        first: int, fraction: float) -> np.ndarray:
    """For each document, the earlier document it copied most characters from (ties: the
    earliest), and the rejection if that share of its `counted` characters reaches `fraction`.
    `own` and `source` are document numbers, `counted` is indexed by own - first, and so is
    each rejection's "doc"; its "target" is the source's number."""
    elsewhere = source != own
    own, source, chars = own[elsewhere], source[elsewhere], chars[elsewhere]
    order = np.lexsort((source, own))
    own, source, chars = own[order], source[order], chars[order]
    starts = np.flatnonzero(np.r_[True, (own[1:] != own[:-1]) | (source[1:] != source[:-1])]) if len(own) else np.zeros(0, dtype=np.int64)
    pair_own, pair_source = own[starts], source[starts]
    amount = np.add.reduceat(chars, starts) if len(starts) else np.zeros(0, dtype=chars.dtype)
    best = np.lexsort((pair_source, -amount, pair_own))  # per document: most characters, then earliest
    chosen_pair = best[np.r_[True, pair_own[best][1:] != pair_own[best][:-1]]] if len(best) else best
    docs, share = pair_own[chosen_pair] - first, np.zeros(len(chosen_pair))
    has_text = counted[docs] > 0
    share[has_text] = amount[chosen_pair][has_text] / counted[docs][has_text]
    chosen = has_text & (share >= fraction)
    rejections = np.zeros(int(chosen.sum()), dtype=REJECTION)
    rejections["doc"] = docs[chosen]
    rejections["target"] = pair_source[chosen_pair][chosen]
    rejections["fraction"] = share[chosen]
    return rejections
