"""An empty split still gets shard 00000 (the trainer expects one); reading it back must not raise."""

from __future__ import annotations

import numpy as np

from pipeline.tokenize.shards import ShardWriter, documents_of


def test_documents_of_an_empty_shard_is_empty(tmp_path):
    (shard,) = ShardWriter(tmp_path, "val", "uint16", 0, 8).finish(always_one=True)
    assert shard["num_tokens"] == 0 and shard["num_docs"] == 0
    assert (tmp_path / shard["file"]).stat().st_size == 0
    assert documents_of(tmp_path, shard, "uint16") == []


def test_documents_of_beside_an_empty_shard_still_reads_every_document(tmp_path):
    w = ShardWriter(tmp_path, "train", "uint32", 7, 5)
    docs = [np.array([1, 2, 3]), np.array([], dtype=np.int64), np.array([70000, 4])]
    for ids in docs:
        w.add(ids)
    shards = w.finish() + ShardWriter(tmp_path, "val", "uint32", 7, 5).finish()
    got = [d.tolist() for s in shards for d in documents_of(tmp_path, s, "uint32")]
    assert got == [d.tolist() for d in docs]
    assert [s["num_docs"] for s in shards] == [2, 1, 0]  # 4 + 1 tokens close the first
