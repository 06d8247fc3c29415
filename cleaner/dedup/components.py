"""Connected components of the verified duplicate pairs, labelled by their smallest member.

A component's label is the smallest paragraph number in it, i.e. its earliest paragraph, so the
labelling is a property of the graph alone: it does not depend on the order of the edges or on
how they were split. That is what lets the Ray engine compute components of edge chunks on
different workers and merge the partial labellings pairwise (each merge is again a components
problem over the (node, label) pairs of both sides) while the result stays identical to one
pass over all edges in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import numpy as np

ResultT = TypeVar("ResultT")

# Edges per chunk when components are spread over workers (see `spread_components`).
EDGES_PER_CHUNK = 1 << 20

# Runs `function(*shared, *call)` for every call, anywhere (this process, a Ray cluster), and
# yields the results in the order of the calls. See `in_process`.
Spread = Callable[[Callable[..., Any], Iterable[tuple[Any, ...]], tuple[Any, ...]], Iterator[Any]]


def in_process(function: Callable[..., ResultT], calls: Iterable[tuple[Any, ...]],
               shared: tuple[Any, ...]) -> Iterator[ResultT]:
    """The `Spread` of the local engine: every call here, one after another."""
    for arguments in calls:
        yield function(*shared, *arguments)


def min_labels(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nodes of the edges (left[i], right[i]), ascending, and each one's component label.

    Hook-and-compress: every root with an edge to a smaller root is hooked under the smallest
    such root, then every node is pointed straight at its root; repeated until no edge joins
    two roots. Roots only ever move to smaller roots, so the forest has no cycles and the final
    root of a component is its smallest node. Each round is a few numpy passes over the edges;
    duplicate clusters are shallow, so a handful of rounds settle them.
    """
    nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
    u, v = inverse[: len(left)], inverse[len(left) :]
    label = np.arange(len(nodes))
    while True:
        lu, lv = label[u], label[v]
        crossing = lu != lv
        if not crossing.any():
            return nodes, nodes[label]
        high, low = np.maximum(lu[crossing], lv[crossing]), np.minimum(lu[crossing], lv[crossing])
        np.minimum.at(label, high, low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped


def merge_labels(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two partial labellings (from disjoint edge chunks) as one: a node labelled in both joins
    the two components it is in."""
    return min_labels(np.concatenate([first[0], second[0]]), np.concatenate([first[1], second[1]]))


def spread_components(spread: Spread, left: np.ndarray, right: np.ndarray,
                      chunk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`min_labels` over many workers: components of each edge chunk (EDGES_PER_CHUNK edges
    unless `chunk` says), then pairwise merges of the partial labellings, a round at a time,
    until one is left."""
    chunk = chunk or EDGES_PER_CHUNK
    if not len(left):
        return np.zeros(0, dtype=left.dtype), np.zeros(0, dtype=left.dtype)
    calls = ((left[begin:begin + chunk], right[begin:begin + chunk]) for begin in range(0, len(left), chunk))
    partial = list(spread(min_labels, calls, ()))
    while len(partial) > 1:
        merged = list(spread(merge_labels, ((partial[i], partial[i + 1]) for i in range(0, len(partial) - 1, 2)), ()))
        partial = merged + partial[len(partial) - len(partial) % 2:]
    return partial[0]
