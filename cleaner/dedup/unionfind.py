"""Union-find over paragraph numbers whose root is always the earliest paragraph."""

from __future__ import annotations

import numpy as np


class UnionFind:
    """Union-find whose root is always the smallest member, i.e. the earliest paragraph."""

    def __init__(self, parent: np.ndarray) -> None:
        self.parent = parent

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra < rb:
            self.parent[rb] = ra
        elif rb < ra:
            self.parent[ra] = rb

    def roots(self) -> np.ndarray:
        root = self.parent.copy()
        while True:
            nxt = root[root]
            if np.array_equal(nxt, root):
                return root
            root = nxt
