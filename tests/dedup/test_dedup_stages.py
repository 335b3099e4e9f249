"""dedup-exact, dedup-minhash and dedup-semantic run through the real runner on planted duplicates."""

from __future__ import annotations

import random

import pytest

from pipeline.dataset import read_stats
from pipeline.dedup.shingles import jaccard, shingle_hashes, unique_per_doc
from tests.dedup.planted import near_copy, random_words


def doc(id_: str, text: str) -> dict:
    return {"id": id_, "text": text, "source": "web", "url": f"https://example.org/{id_}", "title": None,
            "lang": "en", "lang_score": 0.99, "fetched_at": None, "metadata": None}


def _planted_rows() -> list[dict]:
    rng = random.Random(7)
    rows = []
    for i in range(12):
        base = random_words(rng, 120)
        rows.append(doc(f"a{i:02d}", " ".join(base)))
        rows.append(doc(f"b{i:02d}", " ".join(near_copy(base, 0.9, rng))))
        rows.append(doc(f"c{i:02d}", " ".join(near_copy(base, 0.5, rng))))
    # A chain: x0 ~ x1 ~ x2 at Jaccard ~0.84, but x0 vs x2 ~0.70 (below the 0.8 threshold).
    x0 = random_words(rng, 120)
    x1 = near_copy(x0, 0.85, rng, offset=5)
    x2 = near_copy(x1, 0.85, rng, offset=30)
    rows += [doc("x0", " ".join(x2)), doc("x1", " ".join(x1)), doc("x2", " ".join(x0))]
    rows += [doc("empty", "..."), doc("short", "just three words")]
    return rows


def _read(spark, path, cols):
    return sorted(tuple(r) for r in spark.read.parquet(str(path)).select(*cols).collect())


@pytest.mark.slow
def test_minhash_finds_planted_pairs_deterministically_across_partitionings(spark, write_docs, run_stage_in,
                                                                            data_root):
    rows = _planted_rows()
    outputs = []
    old = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        for parts in (1, 2, 7):
            spark.conf.set("spark.sql.shuffle.partitions", str(parts))
            src = write_docs(data_root / f"in{parts}", rows, partitions=parts)
            out = data_root / "run" / f"minhash{parts}"
            summary = run_stage_in("dedup-minhash", [src], out)
            outputs.append((summary, out))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", old)
    summary, out = outputs[0]
    kept = {r[0] for r in _read(spark, out, ["id"])}
    clusters = {r[0]: (r[1], r[2]) for r in _read(spark, out / "_clusters", ["id", "cluster", "cluster_size"])}
    for i in range(12):
        assert clusters[f"b{i:02d}"] == (f"a{i:02d}", 2)  # Jaccard 0.9: found, smallest id survives
        assert f"c{i:02d}" in kept and f"c{i:02d}" not in clusters  # Jaccard 0.5: not a duplicate
    assert {clusters[x] for x in ("x0", "x1", "x2")} == {("x0", 3)}  # the chain is one cluster
    assert {"x0", "empty", "short"} <= kept and not {"x1", "x2"} & kept
    assert summary.rows_out == len(rows) - 14
    stats = read_stats(str(out))
    assert stats["dropped"] == {"minhash_duplicate": 14} and stats["duplicates"] == 14
    assert stats["cluster_size_histogram"] == {"2": 12, "3-4": 1}
    assert stats["documents_without_shingles"] == 1
    rejected = _read(spark, out / "_rejected", ["id", "dup_minhash_cluster", "reject_reason"])
    assert ("x2", "x0", "minhash_duplicate") in rejected
    cols = ["id", "text", "dup_minhash_cluster", "dup_minhash_cluster_size"]
    for _, other in outputs[1:]:
        assert _read(spark, other, cols) == _read(spark, out, cols)
        assert _read(spark, other / "_clusters", ["id", "cluster"]) == _read(spark, out / "_clusters",
                                                                            ["id", "cluster"])


@pytest.mark.slow
def test_exact_dedup_keeps_smallest_id_and_line_dedup_removes_repeated_lines(spark, write_docs,
                                                                            run_stage_in, data_root):
    boiler = "Subscribe to our newsletter for updates!"
    rows = [doc("d3", "Hello  World\nsame body"), doc("d1", "hello world\nsame body"),
            doc("d2", "Caf\u00e9 story\n" + boiler), doc("d4", "Another story\n" + boiler.upper()),
            doc("d5", boiler)]
    src = write_docs(data_root / "in", rows, partitions=3)
    out = data_root / "run" / "exact"
    summary = run_stage_in("dedup-exact", [src], out, ["dedup-exact.line_dedup=true"])
    texts = dict(_read(spark, out, ["id", "text"]))
    assert texts == {"d1": "hello world\nsame body", "d2": "Café story\n" + boiler, "d4": "Another story"}
    assert summary.rows_out == 3
    stats = read_stats(str(out))
    assert stats["dropped"] == {"exact_duplicate": 1, "empty_after_line_dedup": 1}
    assert stats["lines_removed"] == 2
    reasons = dict(_read(spark, out / "_rejected", ["id", "reject_reason"]))
    assert reasons == {"d3": "exact_duplicate", "d5": "empty_after_line_dedup"}


@pytest.mark.slow
def test_semantic_dedup_groups_a_paraphrase_that_minhash_misses(spark, write_docs, run_stage_in, data_root):
    para = ("The committee approved the new budget on Tuesday after a long debate about school funding "
            "and road repairs in the northern districts of the city")
    # Same content, clauses reordered: no 5-gram of one survives in the other except a few.
    para2 = ("After a long debate about school funding and road repairs in the northern districts of the "
             "city the committee on Tuesday approved the new budget")
    others = ["Photosynthesis converts light energy into chemical energy stored in glucose molecules",
              "The striker scored twice in the second half to win the championship final",
              "Compile the kernel with debugging symbols before running the profiler on it",
              "Heavy rain caused flooding along the river banks and closed several highways"]
    rows = [doc("p1", para), doc("p2", para2)] + [doc(f"o{i}", t) for i, t in enumerate(others)]
    # Identical Chinese pages pass through unjudged: the English embedding model does not compare them.
    rows += [{**doc(f"zh{i}", "委员会在周二经过长时间辩论后批准了新的预算。"), "lang": "zh"} for i in range(2)]
    src = write_docs(data_root / "in", rows, partitions=2)
    # MinHash cannot see it: dedup-minhash keeps only pairs whose exact 5-gram Jaccard is >= 0.8.
    hashes, offsets = shingle_hashes([para, para2])
    assert jaccard(*unique_per_doc(hashes, offsets)) < 0.5
    out = data_root / "run" / "sem"
    summary = run_stage_in("dedup-semantic", [src], out, ["dedup-semantic.num_clusters=2"])
    assert summary.rows_out == len(rows) - 1
    table = {r[0]: r[1:] for r in _read(spark, out / "_clusters",
                                        ["id", "dup_semantic_of", "semantic_cluster", "semantic_cluster_size"])}
    assert table["p2"][0] == "p1" and table["p1"][0] is None
    assert all(table[f"o{i}"][0] is None for i in range(4))
    assert table["p1"][1] == table["p2"][1]
    cols = spark.read.parquet(str(out)).columns
    assert {"semantic_cluster", "dup_semantic_of"} <= set(cols)
    stats = read_stats(str(out))
    assert stats["dropped"] == {"semantic_duplicate": 1} and stats["kmeans_clusters"] == 2
    assert stats["judged"] == len(rows) - 2
    kept_zh = {r.id for r in spark.read.parquet(str(out)).collect() if r.lang == "zh"}
    assert kept_zh == {"zh0", "zh1"}


@pytest.mark.slow
def test_minhash_index_path_drops_near_duplicates_of_an_earlier_run(spark, write_docs, run_stage_in, data_root):
    rng = random.Random(9)
    first = [random_words(rng, 120) for _ in range(3)]
    index = data_root / "lsh" / "index.pkl"
    opt = [f"dedup-minhash.index_path={index}"]
    src1 = write_docs(data_root / "crawl1", [doc(f"k{i}", " ".join(w)) for i, w in enumerate(first)])
    assert run_stage_in("dedup-minhash", [src1], data_root / "run" / "m1", opt).rows_out == 3
    assert index.is_file()
    second = [doc("n0", " ".join(near_copy(first[1], 0.9, rng))), doc("n1", " ".join(random_words(rng, 120)))]
    out = data_root / "run" / "m2"
    summary = run_stage_in("dedup-minhash", [write_docs(data_root / "crawl2", second)], out, opt)
    assert summary.rows_out == 1
    assert _read(spark, out / "_rejected", ["id", "dup_minhash_index_of", "reject_reason"]) == [
        ("n0", "k1", "minhash_index_duplicate")]
    assert read_stats(str(out))["dropped"]["minhash_index_duplicate"] == 1
