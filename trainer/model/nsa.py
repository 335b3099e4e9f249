"""Native Sparse Attention (Yuan et al. 2025, DeepSeek): three attention branches mixed by learned gates.

    model_config("tiny", {"attention": "nsa", "nsa": {"block": 16, "stride": 8, "select_block": 16,
                                                      "top_n": 4, "window": 32}})

For each query t (causal throughout):
- compressed: keys/values of each `block`-token block (every `stride` tokens) squeezed to one by a
  learned MLP φ over the block plus an intra-block position embedding; t attends to the blocks
  that end at or before it;
- selected: the compressed attention probabilities, summed over the heads of a GQA group (one
  selection per KV head, as the paper's kernel needs) and over the compressed blocks overlapping
  each `select_block`-token block, pick the `top_n` best blocks (the first block and the two local
  ones always included, as the paper does); t attends to every earlier token in them;
- sliding window: the last `window` tokens.
Output = Σ_c sigmoid(gate_c(x)) · branch_c per head. Paper defaults: block 32, stride 16, select
block 64, top 16, window 512.

This is the reference PyTorch path: each branch is a dense masked attention (O(T²) memory), correct
and trainable but not faster; the FLOPs a kernel would spend are counted by `attention_flops`.
Differences from the paper: the branches share the q/k/v projections (the paper gives each branch
its own keys and values), and there is no KV cache (a model with NSA trains and scores sequences;
generation and the Llama export refuse it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from trainer.model import rope


@dataclass
class NSAConfig:
    block: int = 32  # compression block length l
    stride: int = 16  # compression stride d
    select_block: int = 64  # selection block length l'
    top_n: int = 16  # selected blocks per query and KV head
    window: int = 512  # sliding window w

    def __post_init__(self):
        if min(self.block, self.stride, self.select_block, self.top_n, self.window) < 1:
            raise ValueError(f"NSA sizes must be >= 1: {self}")
        if self.stride > self.block:
            raise ValueError(f"NSA stride {self.stride} > block {self.block} would skip tokens")


def block_overlap(n_cmp: int, n_sel: int, cfg: NSAConfig) -> torch.Tensor:
    """(n_cmp, n_sel) 1.0 where compressed block j and selection block s share a token."""
    start = torch.arange(n_cmp) * cfg.stride
    s_start = torch.arange(n_sel) * cfg.select_block
    return ((start[:, None] < s_start[None] + cfg.select_block) & (s_start[None] < start[:, None] + cfg.block)).float()


def masked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ/√D) v over `allowed` (broadcast to (B, H, T, S)); a row with nothing allowed gives 0."""
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    probs = scores.masked_fill(~allowed, float("-inf")).softmax(-1).nan_to_num(0.0)
    return probs @ v


class NSAAttention(nn.Module):
    """Drop-in for trainer.model.transformer.Attention when `cfg.attention == "nsa"`."""

    def __init__(self, cfg):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.nsa = NSAConfig(**(cfg.nsa or {}))
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)
        flat = self.nsa.block * cfg.head_dim
        self.block_pos = nn.Parameter(torch.zeros(self.nsa.block, cfg.head_dim))
        self.compress_k = nn.Sequential(nn.Linear(flat, cfg.head_dim), nn.SiLU(), nn.Linear(cfg.head_dim, cfg.head_dim))
        self.compress_v = nn.Sequential(nn.Linear(flat, cfg.head_dim), nn.SiLU(), nn.Linear(cfg.head_dim, cfg.head_dim))
        self.gate = nn.Linear(cfg.dim, 3 * cfg.n_heads)

    def compress(self, x: torch.Tensor, phi: nn.Module) -> torch.Tensor:
        """(B, H_kv, T, D) -> (B, H_kv, n_cmp, D): one vector per block of `block` tokens every `stride`."""
        blocks = x.unfold(2, self.nsa.block, self.nsa.stride).transpose(-1, -2)  # (B, H_kv, n, l, D)
        return phi((blocks + self.block_pos).flatten(-2))

    def branches(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> list[torch.Tensor]:
        """[compressed, selected, window] outputs, each (B, H, T, D); q (B, H, T, D), k/v (B, H_kv, T, D)."""
        cfg, (B, H, T, D) = self.nsa, q.shape
        group = H // self.n_kv_heads
        t = torch.arange(T, device=q.device)
        kx, vx = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
        n_sel = math.ceil(T / cfg.select_block)
        if cfg.block <= T:
            k_cmp, v_cmp = self.compress(k, self.compress_k), self.compress(v, self.compress_v)
            n_cmp = k_cmp.shape[2]
            cmp_end = torch.arange(n_cmp, device=q.device) * cfg.stride + cfg.block - 1
            cmp_allowed = cmp_end[None, :] <= t[:, None]  # (T, n_cmp)
            scores = (q @ k_cmp.repeat_interleave(group, 1).transpose(-1, -2)) / math.sqrt(D)
            p_cmp = scores.masked_fill(~cmp_allowed, float("-inf")).softmax(-1).nan_to_num(0.0)
            out_cmp = p_cmp @ v_cmp.repeat_interleave(group, 1)
            overlap = block_overlap(n_cmp, n_sel, cfg).to(q.device, q.dtype)
            importance = (p_cmp @ overlap).view(B, self.n_kv_heads, group, T, n_sel).sum(2)  # GQA-shared
        else:  # shorter than one compression block: no compressed token yet, selection by locality only
            out_cmp = torch.zeros_like(q)
            importance = torch.zeros(B, self.n_kv_heads, T, n_sel, device=q.device, dtype=q.dtype)
        s = torch.arange(n_sel, device=q.device)
        own = t[:, None] // cfg.select_block
        forced = (s[None] == 0) | (s[None] == own) | (s[None] == own - 1)  # initial + 2 local blocks
        causal_block = s[None] * cfg.select_block <= t[:, None]
        importance = importance.masked_fill(forced, float("inf")).masked_fill(~causal_block, float("-inf"))
        top = importance.topk(min(cfg.top_n, n_sel), dim=-1)
        chosen = torch.zeros_like(importance, dtype=torch.bool).scatter_(-1, top.indices, top.values > float("-inf"))
        token_block = t // cfg.select_block  # (T,)
        sel_allowed = chosen[..., token_block] & (t[None, :] <= t[:, None])  # (B, H_kv, T, T)
        out_sel = masked_attention(q, kx, vx, sel_allowed.repeat_interleave(group, 1))
        win_allowed = (t[None, :] <= t[:, None]) & (t[None, :] > t[:, None] - cfg.window)
        out_win = masked_attention(q, kx, vx, win_allowed)
        return [out_cmp, out_sel, out_win]

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, kv=None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        if kv is not None or mask is not None:
            raise NotImplementedError("NSA attention has no KV cache or padding mask yet: score whole sequences")
        B, T, _ = x.shape
        q = self.wq(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = rope.apply_rotary(q, cos, sin), rope.apply_rotary(k, cos, sin)
        gates = torch.sigmoid(self.gate(x)).view(B, T, 3, self.n_heads).permute(2, 0, 3, 1)[..., None]
        y = sum(g * o for g, o in zip(gates, self.branches(q, k, v), strict=True))
        return self.wo(y.transpose(1, 2).reshape(B, T, -1))


def attention_flops(T: int, n_heads: int, head_dim: int, n_kv_heads: int, cfg: NSAConfig | None = None) -> float:
    """Forward attention FLOPs of one layer over a T-token causal sequence (q·k and p·v, 2 FLOPs a
    multiply-add); `cfg` None: full causal attention. NSA counts what a block-sparse kernel computes:
    compressed keys, top_n selected blocks, the window, and the compression MLPs."""
    per_pair = 4 * n_heads * head_dim  # q·k and p·v for one (query, key) pair across heads
    if cfg is None:
        return per_pair * T * (T + 1) / 2
    n_cmp = max(0, (T - cfg.block) // cfg.stride + 1)
    t = torch.arange(1, T + 1, dtype=torch.float64)
    cmp_keys = ((t - cfg.block) // cfg.stride + 1).clamp(min=0)
    sel_keys = torch.minimum(t, torch.full_like(t, cfg.top_n * cfg.select_block))
    win_keys = torch.minimum(t, torch.full_like(t, cfg.window))
    compress = 2 * 2 * n_cmp * n_kv_heads * (cfg.block * head_dim * head_dim + head_dim * head_dim)
    return float(per_pair * (cmp_keys + sel_keys + win_keys).sum()) + compress


__all__ = ["NSAConfig", "NSAAttention", "attention_flops", "block_overlap", "masked_attention"]
