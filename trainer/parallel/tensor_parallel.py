"""Tensor parallelism (Megatron-LM, Shoeybi et al. 2019) with torch's DTensor `parallelize_module`.

Per block: wq/wk/wv and w1/w3 are column-parallel (each rank holds whole heads / a slice of the MLP's
hidden units), wo and w2 row-parallel (their partial sums are all-reduced), so a block costs two
all-reduces forward and two backward. Embedding, norms and the (tied) output head stay replicated;
their gradients come out equal on every rank because the column-parallel layers' input gradients are
all-reduced. MoE feed-forwards stay replicated too (expert parallelism shards them: expert_parallel.py).
"""

from __future__ import annotations

from torch import nn
from torch.distributed.tensor import DTensor
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

from trainer.model.transformer import FeedForward, Transformer


def parallelize(model: Transformer, tp_mesh) -> Transformer:
    """Shard `model`'s blocks over the 1-D mesh `tp_mesh` in place. Every rank must hold the same full
    weights (same seed, or the same checkpoint): each keeps its own slice of them."""
    tp = tp_mesh.size()
    for block in model.layers:
        plan = {"attention.wq": ColwiseParallel(), "attention.wk": ColwiseParallel(),
                "attention.wv": ColwiseParallel(), "attention.wo": RowwiseParallel()}
        if isinstance(block.feed_forward, FeedForward):
            plan.update({"feed_forward.w1": ColwiseParallel(), "feed_forward.w3": ColwiseParallel(),
                         "feed_forward.w2": RowwiseParallel()})
        parallelize_module(block, tp_mesh, plan)
        # the column-parallel projections now return this rank's heads only
        block.attention.n_heads //= tp
        block.attention.n_kv_heads //= tp
    return model


def full_state_dict(model: nn.Module) -> dict:
    """The unsharded state dict (a collective: every rank of the mesh must call it), the format of a
    single-rank checkpoint, so trainer/model/export.py and any other degree can load it."""
    return {k: (v.full_tensor() if isinstance(v, DTensor) else v).detach().clone()
            for k, v in model.state_dict().items()}
