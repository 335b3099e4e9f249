"""Connected components: the driver's union-find and the Spark large-star/small-star rounds, against
a plain union-find reference, and the edge-count bound that picks between them."""

from __future__ import annotations

import random

import pytest

from pipeline.dedup.components import connected_components, union_find


def _union_find(edges: list[tuple[str, str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _graph() -> list[tuple[str, str]]:
    rng = random.Random(5)
    nodes = [f"n{i:03d}" for i in range(120)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(60)]
    # A long chain (worst case for naive label propagation) and a self-loop.
    edges += [(f"c{i:03d}", f"c{i + 1:03d}") for i in range(16)] + [("n000", "n000")]
    return edges


def test_union_find_labels_each_node_with_its_components_smallest_id():
    comp = union_find([("b", "c"), ("d", "c"), ("a", "d"), ("x", "y"), ("z", "z")])
    assert comp == {"a": "a", "b": "a", "c": "a", "d": "a", "x": "x", "y": "x", "z": "z"}


@pytest.mark.slow
@pytest.mark.parametrize("max_local_edges", [0, 1_000])
def test_components_match_union_find_whatever_the_partitioning(spark, max_local_edges):
    edges = _graph()
    expected = {k: v for k, v in _union_find(edges).items() if any(k in e and e[0] != e[1] for e in edges)}
    results = []
    for parts in (1, 7):
        df = spark.createDataFrame(edges, "src string, dst string").repartition(parts)
        res = connected_components(df, max_local_edges=max_local_edges)
        # Under the bound the driver joins them (no Spark rounds); over it, the Spark rounds run.
        assert (res.iterations == 0) == (max_local_edges > 0)
        results.append({r["id"]: r["component"] for r in res.assignments.collect()})
    assert results[0] == expected
    assert results[0] == results[1]
    assert {results[0][f"c{i:03d}"] for i in range(17)} == {"c000"}
