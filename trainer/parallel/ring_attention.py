"""Causal ring attention (Liu et al. 2023, arXiv:2310.01889) with grouped-query heads, forward and backward.

Each rank of the ring holds one contiguous chunk of the sequence: its queries, keys and values. The key/value
chunks travel around the ring (send to rank+1, receive from rank-1) while each rank attends its queries to
the chunk it holds and merges the partial results with the online-softmax rule of flash attention (Dao
2022): out = Σ_blocks exp(lse_b - lse) · out_b, lse = log Σ_b exp(lse_b). Causality by chunk: a rank
attends fully to earlier chunks, causally to its own, and skips later ones.

Backward recomputes each block's probabilities from the saved global log-sum-exp (flash attention's
backward), accumulates dq locally and sends each chunk's dk/dv along with the chunk, so after one more
hop they arrive home. Neither torch nor DeepSpeed offers this on CPU/gloo: torch's
`context_parallel` needs a device with SDPA's flash/efficient kernels, DeepSpeed has none. Point-to-point
sends and receives are what gloo supports; the next chunk's transfer overlaps the current block's math.

Uneven chunks are refused (every rank must hold the same number of positions, as their order on the
ring is their order in the sequence). Chunks are contiguous, so causal work is unbalanced (the last
rank computes `world` blocks, the first one); the zig-zag split of Megatron-CP is not done here.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def _ring_shift(t: torch.Tensor, group) -> torch.Tensor:
    """Send `t` to the next rank of the ring, return what the previous rank sent (blocking)."""
    return _start_shift(t, group)()


def _start_shift(t: torch.Tensor, group):
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    nxt = dist.get_global_rank(group, (rank + 1) % world)
    prv = dist.get_global_rank(group, (rank - 1) % world)
    t = t.contiguous()
    recv = torch.empty_like(t)
    # gloo pairs one send with one receive per peer; posting both before waiting avoids deadlock
    works = [dist.isend(t, nxt, group=group), dist.irecv(recv, prv, group=group)]

    def wait() -> torch.Tensor:
        for w in works:
            w.wait()
        return recv

    return wait


def _expand(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(B, H_kv, T, D) -> (B, H_kv·groups, T, D): query head h reads key/value head h // groups."""
    return x if groups == 1 else x.repeat_interleave(groups, dim=1)


def _fold(x: torch.Tensor, groups: int) -> torch.Tensor:
    """The adjoint of `_expand`: sum the gradients of the query heads sharing a key/value head."""
    if groups == 1:
        return x
    b, h, t, d = x.shape
    return x.view(b, h // groups, groups, t, d).sum(2)


def _scores(q: torch.Tensor, k: torch.Tensor, scale: float, diagonal: bool) -> torch.Tensor:
    s = torch.matmul(q, k.transpose(-1, -2)) * scale
    if diagonal:  # this rank's own chunk: causal inside it
        t = s.shape[-1]
        s = s.masked_fill(torch.ones(t, t, dtype=torch.bool, device=s.device).triu(1), float("-inf"))
    return s


def check_even(length: int, group) -> None:
    """Every rank must hold the same number of positions: refuse an uneven split on all ranks at once."""
    lengths = [torch.zeros(1, dtype=torch.int64) for _ in range(dist.get_world_size(group))]
    dist.all_gather(lengths, torch.tensor([length]), group=group)
    found = [int(x) for x in lengths]
    if len(set(found)) != 1:
        raise ValueError(f"ring attention needs equal sequence chunks per rank, got {found}")


class _RingAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, group):
        rank, world = dist.get_rank(group), dist.get_world_size(group)
        groups, scale = q.shape[1] // k.shape[1], q.shape[-1] ** -0.5
        q32 = q.float()
        kv = torch.stack([k, v]).float()
        out = torch.zeros_like(q32)
        lse = torch.full(q.shape[:-1], float("-inf"), dtype=torch.float32, device=q.device)
        for step in range(world):
            pending = _start_shift(kv, group) if step < world - 1 else None
            src = (rank - step) % world  # the chunk this rank holds at this step
            if src <= rank:
                s = _scores(q32, _expand(kv[0], groups), scale, src == rank)
                block_lse = torch.logsumexp(s, dim=-1)
                block_out = torch.matmul(torch.exp(s - block_lse[..., None]), _expand(kv[1], groups))
                new_lse = torch.logaddexp(lse, block_lse)
                out = out * torch.exp(lse - new_lse)[..., None] + block_out * torch.exp(block_lse - new_lse)[..., None]
                lse = new_lse
            if pending is not None:
                kv = pending()
        ctx.group = group
        ctx.save_for_backward(q, k, v, out, lse)
        return out.to(q.dtype)

    @staticmethod
    def backward(ctx, dout):
        q, k, v, out, lse = ctx.saved_tensors
        group = ctx.group
        rank, world = dist.get_rank(group), dist.get_world_size(group)
        groups, scale = q.shape[1] // k.shape[1], q.shape[-1] ** -0.5
        q32, dout = q.float(), dout.float()
        delta = (dout * out).sum(-1, keepdim=True)  # rowsum(dO ∘ O), flash attention's D
        dq = torch.zeros_like(q32)
        # one message per hop: [k, v, dk, dv] of the chunk this rank holds
        buf = torch.cat([torch.stack([k, v]).float(), torch.zeros((2, *k.shape), dtype=torch.float32,
                                                                   device=k.device)])
        for step in range(world):
            src = (rank - step) % world
            if src <= rank:
                kk, vv = _expand(buf[0], groups), _expand(buf[1], groups)
                p = torch.exp(_scores(q32, kk, scale, src == rank) - lse[..., None])
                ds = p * (torch.matmul(dout, vv.transpose(-1, -2)) - delta)
                dq += torch.matmul(ds, kk) * scale
                buf[2] += _fold(torch.matmul(ds.transpose(-1, -2), q32) * scale, groups)
                buf[3] += _fold(torch.matmul(p.transpose(-1, -2), dout), groups)
            # the last hop brings each chunk's finished dk/dv home (its keys are no longer needed)
            buf = _ring_shift(buf if step < world - 1 else buf[2:], group)
        return dq.to(q.dtype), buf[0].to(k.dtype), buf[1].to(v.dtype), None


def ring_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, group=None) -> torch.Tensor:
    """Causal attention over a sequence split into equal contiguous chunks, chunk i on rank i of `group`.

    q (B, H, T_local, D), k/v (B, H_kv, T_local, D) with H % H_kv == 0 -> (B, H, T_local, D): this rank's
    rows of softmax(q kᵀ/√D + causal mask) v over the whole sequence."""
    group = group or dist.group.WORLD
    if q.shape[1] % k.shape[1]:
        raise ValueError(f"{q.shape[1]} query heads do not group over {k.shape[1]} key/value heads")
    check_even(q.shape[2], group)
    if dist.get_world_size(group) == 1:
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                enable_gqa=q.shape[1] != k.shape[1])
    return _RingAttention.apply(q, k, v, group)
