"""Rank bodies for test_expert_parallel.py: expert parallel (ep = dp = 2) against a single rank that
accumulates the same two micro-batches (what data parallelism computes)."""

import torch
import torch.distributed as dist

from trainer.model import moe
from trainer.parallel import exactness, expert_parallel

MOE = dict(n_experts=4, moe_top_k=2, moe_capacity_factor=1.0)
AUX = 0.01


def _loss(model, window):
    ce = exactness.causal_lm_loss(model, window)[0]
    return ce + AUX * moe.aux_loss(model), ce.detach()


def _accumulated(model, window):
    """Single rank: the micro-batches (one sequence each) the ranks would take, averaged."""
    parts = [_loss(model, window[i:i + 1]) for i in range(window.shape[0])]
    return sum(p[0] for p in parts) / len(parts), sum(p[1] for p in parts) / len(parts)


def ep_matches_single_rank(rank: int, world: int, steps: int) -> None:
    ref = exactness.tiny_model(**MOE)
    data = exactness.batches(ref.cfg, steps, batch=world, seq=32)
    ref_grads = {}
    ref_losses = exactness.train(ref, data, _accumulated,
                                 on_first_grads=lambda m: ref_grads.update(exactness.grads(m)))

    group = dist.group.WORLD
    model = expert_parallel.shard_experts(exactness.tiny_model(**MOE), group)
    assert len(model.layers[0].feed_forward.experts) == MOE["n_experts"] // world

    def mine(m, window):
        loss, ce = _loss(m, window[rank:rank + 1])
        dist.all_reduce(ce, group=group)
        return loss, ce / world

    grads = {}
    losses = exactness.train(model, data, mine, after_backward=lambda m: expert_parallel.reduce_grads(m, group),
                             on_first_grads=lambda m: grads.update(exactness.grads(m)))
    assert max(abs(a - b) for a, b in zip(losses, ref_losses, strict=True)) <= 1e-4, (losses, ref_losses)
    full = expert_parallel.full_state_dict(model, group, {n: g for n, g in grads.items()})
    assert full.keys() == ref_grads.keys()
    for name, g in full.items():
        assert (g - ref_grads[name]).abs().max().item() <= 1e-5, name
    weights = expert_parallel.full_state_dict(model, group)
    final = ref.state_dict()
    assert max((weights[k] - final[k]).abs().max().item() for k in final) <= 1e-4
    assert torch.equal(weights["tok_embeddings.weight"], weights["output.weight"])
