"""Sequence-split training: each rank of a group holds a contiguous chunk of every sequence.

Two ways to attend across the chunks, chosen per model:
- "ulysses": DeepSpeed-Ulysses (Jacobs et al. 2023, arXiv:2309.14509) through DeepSpeed's own
  `deepspeed.sequence.layer.DistributedAttention`: an all-to-all turns (sequence chunk, all heads) into
  (whole sequence, heads/sp), local causal attention runs, and the inverse all-to-all returns the
  chunk. gloo runs `all_to_all_single` on CPU (tests/trainer/parallel). Needs heads and kv-heads
  divisible by sp.
- "ring": context parallelism with this package's ring attention (ring_attention.py): no head
  constraint, chunks' keys/values travel the ring.

Everything else in a block (norms, projections, MLP) is per token, so it runs on the chunk unchanged;
RoPE takes the chunk's global positions. The loss of a chunk is its share of the sequence's
mean, and gradients are summed over the group (`reduce_grads`), which equals the unsplit gradient.
"""

from __future__ import annotations

import importlib

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed.tensor import DTensor

from trainer.model.transformer import Transformer
from trainer.parallel.ring_attention import ring_attention

KINDS = ("ulysses", "ring")


def init_deepspeed_comm() -> None:
    """DeepSpeed's communication layer over the existing gloo group, without the shared-memory
    all-reduce op it would JIT-build on CPU (~40 s; gloo's all-reduce serves these small tensors)."""
    import deepspeed

    importlib.import_module("deepspeed.comm.torch").build_shm_op = lambda: None
    deepspeed.init_distributed(dist_backend="gloo", verbose=False)


def _ulysses_core(group):
    from deepspeed.sequence.layer import DistributedAttention

    def local(q, k, v):  # (B, T, H/sp, D) over the whole sequence
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=q.shape[1] != k.shape[1])
        return y.transpose(1, 2)

    attention = DistributedAttention(local, group, scatter_idx=2, gather_idx=1)

    def core(q, k, v):  # (B, H, T/sp, D), DeepSpeed's batch-first layout is (B, T, H, D)
        y = attention(*(t.transpose(1, 2) for t in (q, k, v)), batch_dim_idx=0)
        return y.transpose(1, 2)

    return core


def _ring_core(group):
    return lambda q, k, v: ring_attention(q, k, v, group)


def split_sequence(model: Transformer, group, kind: str) -> Transformer:
    """Make `model`'s attention work on sequence chunks of `group` in place."""
    if kind not in KINDS:
        raise ValueError(f"sequence split must be one of {KINDS}, got {kind!r}")
    if kind == "ulysses":
        init_deepspeed_comm()
    for block in model.layers:
        block.attention.core = _ulysses_core(group) if kind == "ulysses" else _ring_core(group)
    return model


def chunk(window: torch.Tensor, group) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A (B, T + 1) token window -> this rank's (inputs, targets, positions), T split evenly."""
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    inputs, targets = window[:, :-1], window[:, 1:]
    t = inputs.shape[1]
    if t % world:
        raise ValueError(f"sequence length {t} is not divisible by the {world} ranks of the sequence group")
    rows = slice(rank * t // world, (rank + 1) * t // world)
    return inputs[:, rows], targets[:, rows], torch.arange(rows.start, rows.stop)[None]


def chunk_loss(model: Transformer, window: torch.Tensor, group) -> tuple[torch.Tensor, torch.Tensor]:
    """(this chunk's share of the mean loss, to backprop; the whole sequence's mean loss, to report)."""
    inputs, targets, positions = chunk(window, group)
    logits = model(inputs, positions=positions)
    share = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="sum") / targets.numel()
    share = share / dist.get_world_size(group)
    total = share.detach().clone()
    dist.all_reduce(total, group=group)
    return share, total


def reduce_grads(model: torch.nn.Module, group) -> None:
    """Sum gradients over the sequence group; a tensor-parallel (DTensor) gradient sums its local shard,
    as the shards of one tp rank across the sequence group hold the same slice."""
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad.to_local() if isinstance(p.grad, DTensor) else p.grad, group=group)
