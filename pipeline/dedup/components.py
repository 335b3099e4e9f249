"""Connected components on Spark DataFrames: the large-star / small-star algorithm.

Kiveris et al. 2014, "Connected Components in MapReduce and Beyond" (SoCC): alternate
large-star (link every larger neighbour of u to the smallest node of u's neighbourhood) and
small-star (link u and its smaller neighbours to the smallest of them) until the edge set stops
changing; it then is one star per component around its smallest id. Every step is a groupBy/join,
so no node ever holds all edges, and the result (component = smallest id) does not depend on
partitioning or on the order Spark processes rows. text-dedup's Spark script uses the same rounds.

Each round is several shuffles plus a checkpoint: seconds of fixed cost even for a few hundred edges
(18 s of a 4x real-text run, issue 21). Verified near-duplicate edges are few next to the documents, so
up to `max_local_edges` of them are collected and joined by union-find in the driver (datatrove's
clustering step does the same in one process); the Spark rounds remain for larger edge sets, which keeps
the driver's memory bounded whatever the input size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# 500k edges of two short string ids: ~150 MB of Python rows at most in the driver (2 GB default).
MAX_LOCAL_EDGES = 500_000


@dataclass
class ComponentsResult:
    assignments: object  # DataFrame(id, component): every node that has an edge; component = min id
    iterations: int  # Spark rounds; 0 when the edges were few enough for union-find in the driver
    local: dict[str, str] | None = None  # the driver's union-find result (id -> component), if it ran


def union_find(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Every node of `edges` -> the smallest node of its connected component (self-loops count)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:  # the smaller root wins: the component's label is its minimum
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _normalise(edges):
    from pyspark.sql import functions as F

    return (edges.select(F.least("src", "dst").alias("a"), F.greatest("src", "dst").alias("b"))
            .filter(F.col("a") != F.col("b")).distinct())


def large_star(e):
    """For each u: m = min(N(u) + u); emit (m, v) for every neighbour v > u."""
    from pyspark.sql import functions as F

    both = e.select(F.col("a").alias("u"), F.col("b").alias("v")).unionByName(
        e.select(F.col("b").alias("u"), F.col("a").alias("v")))
    m = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (both.filter(F.col("v") > F.col("u")).join(m, "u")
            .select(F.col("m").alias("a"), F.col("v").alias("b")).distinct())


def small_star(e):
    """For each u: m = min of u's smaller neighbours; emit (m, v) for those v != m, and (m, u)."""
    from pyspark.sql import functions as F

    m = e.groupBy("b").agg(F.min("a").alias("m"))
    spokes = (e.join(m, "b").filter(F.col("a") != F.col("m"))
              .select(F.col("m").alias("a"), F.col("a").alias("b")))
    return spokes.unionByName(m.select(F.col("m").alias("a"), F.col("b"))).distinct()


def connected_components(edges, max_iterations: int = 64,
                         max_local_edges: int = MAX_LOCAL_EDGES) -> ComponentsResult:
    """`edges` has columns src, dst (string ids); returns each node's component (its min id).

    At most `max_local_edges` distinct edges: union-find in the driver; more: large/small-star rounds.
    """
    from pyspark.sql import functions as F

    # One job tells which path: at most max_local_edges + 1 rows ever reach the driver.
    local = _normalise(edges).limit(max_local_edges + 1).collect()
    if len(local) <= max_local_edges:
        # Self-loops were dropped by _normalise, as the Spark path drops them.
        comp = union_find((r["a"], r["b"]) for r in local)
        nodes = edges.sparkSession.createDataFrame(sorted(comp.items()), "id string, component string")
        return ComponentsResult(assignments=nodes, iterations=0, local=comp)
    del local
    e = _normalise(edges).localCheckpoint()
    n_edges = e.count()
    iterations = 0
    while True:
        iterations += 1
        nxt = small_star(large_star(e)).localCheckpoint()
        n_next = nxt.count()
        # A round that leaves the edge set unchanged is the fixed point: one star per component.
        # (Comparing large- with small-star output instead stops early on paths.)
        same = n_next == n_edges and nxt.exceptAll(e).limit(1).count() == 0
        e, n_edges = nxt, n_next
        if same:
            break
        if iterations >= max_iterations:
            raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")
    # Converged: e is one star (component min, member) per component.
    nodes = e.select(F.col("b").alias("id"), F.col("a").alias("component")).unionByName(
        e.select(F.col("a").alias("id"), F.col("a").alias("component"))).distinct()
    return ComponentsResult(assignments=nodes, iterations=iterations)
