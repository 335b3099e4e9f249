"""The pieces that keep the driver's memory bounded (issue 21): train-domain's sample, tokenize's shard merge."""

from __future__ import annotations

import json

import numpy as np

from pipeline.tokenize.parallel_shards import PARTS_DIR, _PartWriter, merge_shards
from pipeline.tokenize.shards import ShardWriter, documents_of


def test_bounded_sample_is_capped_cut_and_seeded(spark):
    from pipeline.jobs.train_domain import bounded_sample

    df = spark.createDataFrame([(f"d{i}", "x" * (i + 1)) for i in range(200)], "id string, text string")
    a = bounded_sample(df, "id", 7, 25, 10).collect()
    b = bounded_sample(df.repartition(3), "id", 7, 25, 10).collect()
    assert len(a) == 25 and max(len(r["text"]) for r in a) == 10
    assert [r["id"] for r in a] == [r["id"] for r in b]  # same rows whatever the partitioning
    assert [r["id"] for r in bounded_sample(df, "id", 8, 25, 10).collect()] != [r["id"] for r in a]


def test_partition_shards_merge_in_bucket_order(tmp_path):
    tmp = tmp_path / PARTS_DIR
    tmp.mkdir()
    meta, expected = [], []
    for part in (1, 0):  # metadata arrives in any order; 2 documents fill a 5-token shard
        w = _PartWriter(tmp, "train", part, "uint16", 0, 5, ShardWriter)
        for k in range(3):
            ids = np.arange(1, 4, dtype=np.uint16) + 10 * part + k
            w.add(ids, f"dom{k % 2}", len(ids) + 1)
            expected.append((part, k, ids.tolist()))
        meta += w.finish()
    meta.append({"split": None, "part": 0, "seq": -1, "file": None, "num_tokens": 0, "num_docs": 0,
                 "domain_tokens": "{}", "special": 2, "empty": 1})
    shards, totals = merge_shards(tmp_path, meta, "uint16", 0)
    assert [s["file"] for s in shards] == [f"train-{i:05d}.bin" for i in range(4)] + ["val-00000.bin"]
    docs = [d.tolist() for s in shards if s["num_docs"] for d in documents_of(tmp_path, s, "uint16")]
    assert docs == [ids for _, _, ids in sorted(expected)]  # bucket 0's documents first, each bucket in order
    assert totals["docs"] == {"train": 6, "val": 0} and totals["special"] == 2 and totals["empty"] == 1
    assert totals["tokens"]["train"] == {"dom0": 16, "dom1": 8}
    assert not tmp.exists() and json.dumps(shards)
