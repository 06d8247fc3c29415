"""Connected components of the duplicate graph across workers: large-star and small-star rounds.

The graph's edges are this run's: an exact copy to its text's leader, a verified candidate
pair. Earlier runs' clusters join through the paragraphs those edges touch: each such
paragraph is linked to the label the state gives it (the label of a label may have moved
on in a later run, so that is asked again, a round at a time, until a label is its own).

The rounds alternate large-star and small-star (Kiveris et al., "Connected Components in
MapReduce and Beyond", 2014): each node relinks its neighbours to the smallest node it sees,
which turns every component into a star around its smallest node in O(log^2 n) rounds even for
long chains of near copies (plain label propagation would need as many rounds as the chain is
long). A node's label is then the centre of its star: the smallest gid of its component, its
earliest paragraph, whatever the order of edges, rounds or workers. Edges are cut into 2**bits
ranges by node (`shuffle.node_range`), one call per range per round; the driver only counts
the nodes that changed.

A component's size is its nodes' weights summed at its label: 1 for this run's paragraphs,
the state's cluster size for an earlier cluster's label, 0 for an earlier paragraph that is
not its cluster's label (its label counts it). Every component here holds a paragraph of this
run that is not its label, so each one is a cluster this run touched.
"""

from __future__ import annotations

import numpy as np

from cleaner.dedup.columns import distinct
from cleaner.dedup.components import Spread
from cleaner.dedup.job import Job, rows_of
from cleaner.dedup.prior import NODE_ROW
from cleaner.dedup.shuffle import dump, exists, load, merge_sources, names, node_range, read_part, write_parts

_EDGE = {"src": np.int64, "dst": np.int64}
_NODE = {"node": np.int64}


def write_edges(job: Job, source: int, left: np.ndarray, right: np.ndarray) -> None:
    """Edges (both ways) where their nodes' ranges read them; earlier runs' nodes among them
    are sent to be resolved."""
    src, dst = np.concatenate([left, right]), np.concatenate([right, left])
    write_parts(job.scratch, "star/0000", source, node_range(src, job.cc_bits), {"src": src, "dst": dst})
    earlier = distinct(src[src < job.n_prior])
    write_parts(job.scratch, "resolve/0000", source, node_range(earlier, job.cc_bits), {"node": earlier})


def resolve(job: Job, round_: int, part: int) -> int:
    """The state's labels of the earlier paragraphs asked about in this round: an edge to each
    label that is not the paragraph itself, which is asked about next round."""
    rows, _ = read_part(job.scratch, f"resolve/{round_:04d}", part, _NODE)
    nodes = distinct(rows["node"])
    if not len(nodes):
        return 0
    label, size = job.prior.labels(part, nodes)
    moved = label != nodes
    dump(job.scratch, f"weights/{part:05d}/{round_:04d}.pkl", {"node": nodes, "weight": np.where(moved, 0, size)})
    source = len(job.tasks) + (round_ << job.cc_bits) + part
    src, dst = np.concatenate([nodes[moved], label[moved]]), np.concatenate([label[moved], nodes[moved]])
    write_parts(job.scratch, "star/0000", source, node_range(src, job.cc_bits), {"src": src, "dst": dst})
    write_parts(job.scratch, f"resolve/{round_ + 1:04d}", part, node_range(label[moved], job.cc_bits),
                {"node": label[moved]})
    return int(moved.sum())


def star(job: Job, round_: int, part: int) -> int:
    """One round of large-star (even rounds) or small-star (odd) for the nodes of one range:
    each node u links neighbours to m, the smallest of u and its neighbours; large-star its
    larger neighbours, small-star its smaller ones and itself. Returns how many nodes changed
    their edges (0 in both kinds of round: every component is a star around its smallest node)."""
    found, _ = read_part(job.scratch, f"star/{round_:04d}", part, _EDGE)
    pairs = np.unique(np.stack([found["src"], found["dst"]], axis=1), axis=0) if len(found["src"]) else np.zeros((0, 2), np.int64)
    src, dst = pairs[:, 0], pairs[:, 1]
    nodes, first = np.unique(src, return_index=True)
    smallest = np.minimum(np.minimum.reduceat(dst, first), nodes) if len(nodes) else nodes
    m = smallest[np.searchsorted(nodes, src)]
    if round_ % 2 == 0:  # large-star
        picked = dst > src
        left, right = dst[picked], m[picked]
        changed = distinct(src[picked & (m != src)])
    else:  # small-star
        picked = (dst < src) & (dst != m)
        has_smaller = distinct(src[dst < src])
        left = np.concatenate([dst[picked], has_smaller])
        right = np.concatenate([m[picked], smallest[np.searchsorted(nodes, has_smaller)]])
        smaller = np.bincount(np.searchsorted(nodes, src[dst < src]), minlength=len(nodes))
        changed = nodes[smaller > 1]
    both = np.concatenate([left, right]), np.concatenate([right, left])
    write_parts(job.scratch, f"star/{round_ + 1:04d}", part, node_range(both[0], job.cc_bits),
                {"src": both[0], "dst": both[1]})
    dump(job.scratch, f"cc/{part:05d}/labels.pkl", (nodes, smallest))
    return len(changed)


def finish(job: Job, part: int) -> None:
    """Each node's weight to its label's range; this run's paragraphs' labels to their tasks."""
    if not exists(job.scratch, f"cc/{part:05d}/labels.pkl"):
        return
    nodes, label = load(job.scratch, f"cc/{part:05d}/labels.pkl")
    weight = (nodes >= job.n_prior).astype(np.int64)
    for name in names(job.scratch, f"weights/{part:05d}"):
        found = load(job.scratch, f"weights/{part:05d}/{name}")
        weight[np.searchsorted(nodes, found["node"])] = found["weight"]
    write_parts(job.scratch, "sizes", part, node_range(label, job.cc_bits), {"label": label, "weight": weight})
    mine = nodes >= job.n_prior
    write_parts(job.scratch, "roots", part, job.owner(nodes[mine]), {"gid": nodes[mine], "label": label[mine]})
    moved = label != nodes
    dump(job.scratch, f"cc/{part:05d}/moved.pkl", (nodes[moved], label[moved]))


def sizes(job: Job, part: int) -> dict[int, int]:
    """Sizes of the clusters labelled in this range (size -> how many); the state's rows for
    this range: every node whose label moved, every label with its cluster's size."""
    found, _ = read_part(job.scratch, "sizes", part, {"label": np.int64, "weight": np.int64})
    labels, inverse = np.unique(found["label"], return_inverse=True)
    size = np.bincount(inverse, weights=found["weight"], minlength=len(labels)).astype(np.int64)
    moved = f"cc/{part:05d}/moved.pkl"
    nodes, label = load(job.scratch, moved) if exists(job.scratch, moved) else (np.zeros(0, np.int64),) * 2
    rows = np.concatenate([rows_of(NODE_ROW, key=nodes, label=label, size=np.zeros(len(nodes), dtype=np.int64)),
                           rows_of(NODE_ROW, key=labels, label=labels, size=size)])
    job.table("nodes", part, rows[np.argsort(rows["key"], kind="stable")])
    values, counts = np.unique(size, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))


def components(job: Job, spread: Spread) -> tuple[int, dict[str, int]]:
    """Label every node of the graph; return the number of clusters and their sizes."""
    parts = range(1 << job.cc_bits)
    round_ = 0
    merge_sources(job.scratch, spread, "resolve/0000")
    while sum(spread(resolve, ((round_, part) for part in parts), (job,))):
        round_ += 1
        merge_sources(job.scratch, spread, f"resolve/{round_:04d}")
    round_ = 0
    while True:
        merge_sources(job.scratch, spread, f"star/{round_:04d}")
        large = sum(spread(star, ((round_, part) for part in parts), (job,)))
        merge_sources(job.scratch, spread, f"star/{round_ + 1:04d}")
        small = sum(spread(star, ((round_ + 1, part) for part in parts), (job,)))
        round_ += 2
        if not large and not small:
            break
    list(spread(finish, ((part,) for part in parts), (job,)))
    merge_sources(job.scratch, spread, "sizes", "roots")
    histogram: dict[int, int] = {}
    for found in spread(sizes, ((part,) for part in parts), (job,)):
        for size, count in found.items():
            histogram[size] = histogram.get(size, 0) + count
    return sum(histogram.values()), {str(size): histogram[size] for size in sorted(histogram)}
