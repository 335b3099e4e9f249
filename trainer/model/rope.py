"""Rotary position embeddings: plain, linear, NTK ("dynamic") and YaRN frequency schedules.

Layout: HF "rotate halves" (the first head_dim/2 channels pair with the second half), so an exported
checkpoint needs no q/k permute. Each schedule returns `(inv_freq, attention_scaling)` exactly as
`transformers.modeling_rope_utils.ROPE_INIT_FUNCTIONS` does (tests/trainer/test_rope.py checks it):
- linear: position interpolation, Chen et al. 2023 (arXiv:2306.15595): every frequency / factor.
- dynamic: NTK-aware base rescaling (bloc97/emozilla, r/LocalLLaMA 2023) once a sequence runs past
  the pretraining length; below it, plain RoPE.
- yarn: Peng et al. 2023 (arXiv:2309.00071): interpolate low frequencies, keep high ones, ramp
  between dims `beta_fast`=32 and `beta_slow`=1 rotations (the paper's Llama values), and scale
  cos/sin by 0.1·ln(factor)+1.
"""

from __future__ import annotations

import math

import torch

ROPE_TYPES = ("default", "linear", "dynamic", "yarn")


def _plain(head_dim: int, theta: float) -> torch.Tensor:
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))


def rope_type(scaling: dict | None) -> str:
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind not in ROPE_TYPES:
        raise ValueError(f"rope_scaling.rope_type must be one of {ROPE_TYPES}, got {kind!r}")
    return kind


def original_max_len(scaling: dict | None, max_seq_len: int) -> int:
    """The pretraining context the scaling extends from (defaults to the model's max_seq_len)."""
    return int((scaling or {}).get("original_max_position_embeddings") or max_seq_len)


def inv_frequencies(
    head_dim: int, theta: float, scaling: dict | None, max_seq_len: int, seq_len: int | None = None
) -> tuple[torch.Tensor, float]:
    """Inverse frequencies (head_dim/2,) and the cos/sin scale for a sequence of `seq_len` tokens."""
    kind = rope_type(scaling)
    if kind == "default":
        return _plain(head_dim, theta), 1.0
    factor = float(scaling["factor"])
    if kind == "linear":
        return _plain(head_dim, theta) / factor, 1.0
    original = original_max_len(scaling, max_seq_len)
    if kind == "dynamic":
        seq_len = max(seq_len or original, original)
        base = theta * ((factor * seq_len / original) - (factor - 1)) ** (head_dim / (head_dim - 2))
        return _plain(head_dim, base), 1.0
    return _yarn(head_dim, theta, scaling, factor, original)


def _yarn(head_dim: int, theta: float, scaling: dict, factor: float, original: int) -> tuple[torch.Tensor, float]:
    def mscale(scale: float, m: float = 1.0) -> float:
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    attention_factor = scaling.get("attention_factor")
    if attention_factor is None:
        m, m_all = scaling.get("mscale"), scaling.get("mscale_all_dim")
        attention_factor = float(mscale(factor, m) / mscale(factor, m_all)) if m and m_all else mscale(factor)
    beta_fast = scaling.get("beta_fast") or 32
    beta_slow = scaling.get("beta_slow") or 1

    def correction_dim(rotations: float) -> float:
        # The dimension whose wavelength fits `rotations` times into the original context.
        return head_dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(theta))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if scaling.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, head_dim - 1)
    if low == high:
        high += 0.001  # avoids a division by zero in the ramp
    ramp = torch.clamp((torch.arange(head_dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)

    pos_freqs = theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    extrapolate = 1.0 - ramp  # 1 keeps the original frequency, 0 interpolates it by `factor`
    inv_freq = (1.0 / (factor * pos_freqs)) * (1 - extrapolate) + (1.0 / pos_freqs) * extrapolate
    return inv_freq, float(attention_factor)


def cos_sin(inv_freq: torch.Tensor, scale: float, seq_len: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables of shape (seq_len, head_dim) in fp32, halves repeated (HF layout)."""
    positions = torch.arange(seq_len, device=device, dtype=torch.float32)
    freqs = positions[:, None] * inv_freq.to(device=device, dtype=torch.float32)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scale, emb.sin() * scale


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (B, H, T, D); cos/sin: (T, D)."""
    return x * cos.to(x.dtype) + rotate_half(x) * sin.to(x.dtype)
