"""Large-star/small-star connected components on Spark against a union-find reference."""

from __future__ import annotations

import random

import pytest

from pipeline.dedup.components import connected_components


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


@pytest.mark.slow
def test_components_match_union_find_whatever_the_partitioning(spark):
    rng = random.Random(5)
    nodes = [f"n{i:03d}" for i in range(120)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(60)]
    # A long chain (worst case for naive label propagation) and a self-loop.
    edges += [(f"c{i:03d}", f"c{i + 1:03d}") for i in range(16)] + [("n000", "n000")]
    expected = {k: v for k, v in _union_find(edges).items() if any(k in e and e[0] != e[1] for e in edges)}
    results = []
    for parts in (1, 7):
        df = spark.createDataFrame(edges, "src string, dst string").repartition(parts)
        res = connected_components(df)
        results.append({r["id"]: r["component"] for r in res.assignments.collect()})
    assert results[0] == expected
    assert results[0] == results[1]
    assert {results[0][f"c{i:03d}"] for i in range(17)} == {"c000"}
