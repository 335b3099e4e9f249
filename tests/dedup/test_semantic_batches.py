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
