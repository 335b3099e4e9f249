"""Plain-PyTorch references for every kernel: the ground truth of the tests and the CPU path.

Each one computes in fp32 (or the input's dtype when that is wider) and returns the input dtype,
and is differentiable through ordinary autograd.
"""

from __future__ import annotations

import math

import torch

from .quant_format import dequantize


def causal_mask(t_q: int, t_k: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean (t_q, t_k) mask, True where query i may attend key j.

    Aligned to the bottom-right (FlashAttention-2 convention): query i sees keys
    ``j <= i + t_k - t_q``, so a query block appended after a KV cache attends the whole cache.
    For t_q == t_k this is the usual lower triangle.
    """
    i = torch.arange(t_q, device=device)[:, None]
    j = torch.arange(t_k, device=device)[None, :]
    return j <= i + (t_k - t_q)


def attention_reference(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True
) -> torch.Tensor:
    """softmax(q k^T / sqrt(D) [+ causal mask]) v with GQA (k/v heads repeated to H)."""
    b, h, t_q, d = q.shape
    h_kv, t_k = k.shape[1], k.shape[2]
    if h % h_kv:
        raise ValueError(f"query heads {h} must be a multiple of kv heads {h_kv}")
    compute = torch.promote_types(q.dtype, torch.float32)
    qf, kf, vf = (x.to(compute) for x in (q, k, v))
    if h_kv != h:
        kf = kf.repeat_interleave(h // h_kv, dim=1)
        vf = vf.repeat_interleave(h // h_kv, dim=1)
    scores = (qf @ kf.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    if causal:
        scores = scores.masked_fill(~causal_mask(t_q, t_k, q.device), float("-inf"))
    return (scores.softmax(dim=-1) @ vf).to(q.dtype)


def rms_norm_reference(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """y = x / sqrt(mean(x^2) + eps) * weight over the last dim, computed in fp32."""
    compute = torch.promote_types(x.dtype, torch.float32)
    xf = x.to(compute)
    rstd = torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + eps)
    return (xf * rstd * weight.to(compute)).to(x.dtype)


def rope_reference(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding, "rotate halves" layout (HF Llama ``rotate_half``).

    x (B, H, T, D); cos/sin (T, D/2) hold cos/sin(position * inv_freq). Feature i is paired with
    feature i + D/2: out[:D/2] = x1 cos - x2 sin, out[D/2:] = x2 cos + x1 sin. HF passes cos/sin of
    width D (the D/2 table repeated twice); ``cos_hf[..., : D // 2]`` is what goes here.
    """
    half = x.shape[-1] // 2
    compute = torch.promote_types(x.dtype, torch.float32)
    xf = x.to(compute)
    x1, x2 = xf[..., :half], xf[..., half:]
    c, s = cos.to(compute), sin.to(compute)
    return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1).to(x.dtype)


def quant_matmul_reference(
    x: torch.Tensor,
    qweight: torch.Tensor,
    scales: torch.Tensor,
    zeros: torch.Tensor | None,
    bits: int,
    group_size: int | None,
) -> torch.Tensor:
    """x (..., K) @ dequantize(W)^T -> (..., N), in fp32 and cast back to x's dtype."""
    w = dequantize(qweight, scales, zeros, bits, group_size, dtype=torch.float32)
    return (x.float() @ w.t()).to(x.dtype)


def rope_cos_sin(
    seq_len: int, head_dim: int, base: float = 10000.0, device: torch.device | str | None = None,
    offset: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """fp32 (seq_len, head_dim/2) cos/sin tables for positions offset..offset+seq_len-1.

    inv_freq_i = base^(-2i/D) as in RoFormer and Llama (base 10000 from the RoFormer paper).
    """
    inv_freq = base ** (-torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    pos = torch.arange(offset, offset + seq_len, device=device, dtype=torch.float32)
    angles = torch.outer(pos, inv_freq)
    return angles.cos(), angles.sin()
