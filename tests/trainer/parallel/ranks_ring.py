"""Rank bodies for test_ring_attention.py (spawned processes import them by name)."""

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from trainer.parallel.ring_attention import ring_attention


def ring_matches_full_attention(rank: int, world: int, cases: list[tuple[int, int, int]]) -> None:
    """cases: (query heads, key/value heads, sequence length)."""
    for heads, kv_heads, seq in cases:
        _one_case(rank, world, heads, kv_heads, seq)
    uneven_chunks_are_refused(rank, world)


def _one_case(rank: int, world: int, heads: int, kv_heads: int, seq: int) -> None:
    torch.manual_seed(0)  # the same full tensors on every rank
    q = torch.randn(2, heads, seq, 16, )
    k = torch.randn(2, kv_heads, seq, 16).float()
    v = torch.randn(2, kv_heads, seq, 16).float()
    dout = torch.randn(2, heads, seq, 16)
    full = [t.clone().requires_grad_() for t in (q, k, v)]
    ref = F.scaled_dot_product_attention(*full, is_causal=True, enable_gqa=heads != kv_heads)
    ref.backward(dout)

    rows = slice(rank * seq // world, (rank + 1) * seq // world)
    local = [t[:, :, rows].clone().requires_grad_() for t in (q, k, v)]
    out = ring_attention(*local)
    out.backward(dout[:, :, rows])
    assert (out - ref[:, :, rows]).abs().max().item() <= 1e-5
    for mine, theirs in zip(local, full, strict=True):
        assert (mine.grad - theirs.grad[:, :, rows]).abs().max().item() <= 1e-5


def uneven_chunks_are_refused(rank: int, world: int) -> None:
    q = torch.randn(1, 2, 8 + rank, 8)
    with pytest.raises(ValueError, match="equal sequence chunks"):
        ring_attention(q, q, q)
    dist.barrier()
