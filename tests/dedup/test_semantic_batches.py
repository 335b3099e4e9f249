"""The embedding step of dedup-semantic on the batches Spark hands it, including empty ones."""

import pandas as pd

from pipeline.jobs.dedup_semantic import DedupSemanticConfig, _embed_batches


def test_empty_batches_yield_nothing_and_others_embed():
    # A partition whose documents are all in unjudged languages reaches the step as an empty batch.
    cfg = DedupSemanticConfig(embedding_backend="hashed", hashed_dim=32)
    empty = pd.DataFrame({"id": pd.Series([], dtype=object), "text": pd.Series([], dtype=object)})
    batch = pd.DataFrame({"id": ["a", "b"], "text": ["the budget was approved", "the striker scored twice"]})
    out = list(_embed_batches(cfg)(iter([empty, batch, empty])))
    assert len(out) == 1 and list(out[0]["id"]) == ["a", "b"]
    assert all(len(v) == 32 for v in out[0]["emb"])


def test_kmeans_partial_sums_skip_partitions_without_vectors():
    import numpy as np

    from pipeline.dedup.kmeans import _partial_sums

    class Broadcast:
        value = np.eye(2, dtype=np.float32)

    empty = pd.DataFrame({"emb": pd.Series([], dtype=object)})
    assert list(_partial_sums(Broadcast(), 2)(iter([empty]))) == []
    batch = pd.DataFrame({"emb": [np.array([1.0, 0.1], np.float32), np.array([0.0, 1.0], np.float32)]})
    (sums,) = list(_partial_sums(Broadcast(), 2)(iter([empty, batch])))
    assert list(sums["cluster"]) == [0, 1] and list(sums["n"]) == [1, 1]
