"""Connected components of the duplicate graph across workers: label propagation by rounds.

The graph's edges are this run's: an exact copy to its text's leader, a verified candidate
pair. Earlier runs' clusters join through the paragraphs those edges touch: each such
paragraph is linked to the label the state gives it (the label of a label may have moved
on in a later run, so that is asked again, a round at a time, until a label is its own).

Every node starts with its own gid as its label; each round, the nodes whose label went down
send it to their neighbours, and every node keeps the smallest label it hears of. Rounds stop
when nobody sends: each node's label is then the smallest gid of its component, its earliest
paragraph, whatever the order of edges, rounds or workers (as `components.min_labels`).
Edges and labels are cut into 2**bits ranges by node (`shuffle.node_range`), one call per
range per round; the driver only counts the messages sent.

A component's size is its nodes' weights summed at its label: 1 for this run's paragraphs,
the state's cluster size for an earlier cluster's label, 0 for an earlier paragraph that is
not its cluster's label (its label counts it). Every component here holds a paragraph of this
run that is not its label, so each one is a cluster this run touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cleaner.dedup.components import Spread
from cleaner.dedup.job import Job, rows_of
from cleaner.dedup.prior import NODE_ROW
from cleaner.dedup.shuffle import dump, load, node_range, read_part, write_parts

_EDGE = {"src": np.int64, "dst": np.int64}
_NODE = {"node": np.int64}
_LABEL = {"node": np.int64, "label": np.int64}


def write_edges(job: Job, source: int, left: np.ndarray, right: np.ndarray) -> None:
    """Edges (both ways) where their nodes' ranges read them; earlier runs' nodes among them
    are sent to be resolved."""
    src, dst = np.concatenate([left, right]), np.concatenate([right, left])
    write_parts(job.scratch, "edges", source, node_range(src, job.bits), {"src": src, "dst": dst})
    earlier = np.unique(src[src < job.n_prior])
    write_parts(job.scratch, "resolve/0000", source, node_range(earlier, job.bits), {"node": earlier})


def resolve(job: Job, round_: int, part: int) -> int:
    """The state's labels of the earlier paragraphs asked about in this round: an edge to each
    label that is not the paragraph itself, which is asked about next round."""
    rows, _ = read_part(job.scratch, f"resolve/{round_:04d}", part, _NODE)
    nodes = np.unique(rows["node"])
    if not len(nodes):
        return 0
    label, size = job.prior.labels(part, nodes)
    moved = label != nodes
    dump(job.scratch, f"weights/{part:05d}/{round_:04d}.pkl", {"node": nodes, "weight": np.where(moved, 0, size)})
    source = len(job.tasks) + (round_ << job.bits) + part
    src, dst = np.concatenate([nodes[moved], label[moved]]), np.concatenate([label[moved], nodes[moved]])
    write_parts(job.scratch, "edges", source, node_range(src, job.bits), {"src": src, "dst": dst})
    write_parts(job.scratch, f"resolve/{round_ + 1:04d}", part, node_range(label[moved], job.bits),
                {"node": label[moved]})
    return int(moved.sum())


def propagate(job: Job, round_: int, part: int) -> int:
    """One round for one range: take the smallest label heard, pass on the labels that went down."""
    here = f"cc/{part:05d}"
    if round_ == 0:
        edges, _ = read_part(job.scratch, "edges", part, _EDGE)
        order = np.lexsort((edges["dst"], edges["src"]))
        edges = {k: v[order] for k, v in edges.items()}
        dump(job.scratch, f"{here}/edges.pkl", edges)
        nodes = np.unique(edges["src"])
        label = nodes.copy()
        changed = np.ones(len(nodes), dtype=bool)
    else:
        edges = load(job.scratch, f"{here}/edges.pkl")
        nodes, label = load(job.scratch, f"{here}/labels.pkl")
        heard, _ = read_part(job.scratch, f"messages/{round_:04d}", part, _LABEL)
        best = np.full(len(nodes), np.iinfo(np.int64).max)
        np.minimum.at(best, np.searchsorted(nodes, heard["node"]), heard["label"])
        changed = best < label
        label = np.where(changed, best, label)
    dump(job.scratch, f"{here}/labels.pkl", (nodes, label))
    at = np.searchsorted(nodes, edges["src"])
    send = changed[at] if len(nodes) else np.zeros(0, dtype=bool)
    write_parts(job.scratch, f"messages/{round_ + 1:04d}", part, node_range(edges["dst"][send], job.bits),
                {"node": edges["dst"][send], "label": label[at[send]]})
    return int(send.sum())


def finish(job: Job, part: int) -> None:
    """Each node's weight to its label's range; this run's paragraphs' labels to their tasks."""
    if not Path(job.scratch, f"cc/{part:05d}/labels.pkl").is_file():
        return
    nodes, label = load(job.scratch, f"cc/{part:05d}/labels.pkl")
    weight = (nodes >= job.n_prior).astype(np.int64)
    weights_dir = Path(job.scratch, f"weights/{part:05d}")
    for name in sorted(p.name for p in weights_dir.iterdir()) if weights_dir.is_dir() else []:
        found = load(job.scratch, f"weights/{part:05d}/{name}")
        weight[np.searchsorted(nodes, found["node"])] = found["weight"]
    write_parts(job.scratch, "sizes", part, node_range(label, job.bits), {"label": label, "weight": weight})
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
    moved = Path(job.scratch, f"cc/{part:05d}/moved.pkl")
    nodes, label = load(job.scratch, f"cc/{part:05d}/moved.pkl") if moved.is_file() else (np.zeros(0, np.int64),) * 2
    rows = np.concatenate([rows_of(NODE_ROW, key=nodes, label=label, size=np.zeros(len(nodes), dtype=np.int64)),
                           rows_of(NODE_ROW, key=labels, label=labels, size=size)])
    job.table("nodes", part, rows[np.argsort(rows["key"], kind="stable")])
    values, counts = np.unique(size, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))


def components(job: Job, spread: Spread) -> tuple[int, dict[str, int]]:
    """Label every node of the graph; return the number of clusters and their sizes."""
    parts = range(1 << job.bits)
    round_ = 0
    while sum(spread(resolve, ((round_, part) for part in parts), (job,))):
        round_ += 1
    round_ = 0
    while sum(spread(propagate, ((round_, part) for part in parts), (job,))):
        round_ += 1
    list(spread(finish, ((part,) for part in parts), (job,)))
    histogram: dict[int, int] = {}
    for found in spread(sizes, ((part,) for part in parts), (job,)):
        for size, count in found.items():
            histogram[size] = histogram.get(size, 0) + count
    return sum(histogram.values()), {str(size): histogram[size] for size in sorted(histogram)}
