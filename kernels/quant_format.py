"""Weight-only quantization formats shared by the kernels and the quantization code.

Plain PyTorch, no Triton: the quantization module (``trainer/``) imports these helpers to
produce weights, and ``kernels.quant_matmul`` consumes exactly what they return.

Layout (nn.Linear convention, weight ``W`` of shape ``(N, K)`` = (out_features, in_features)):

* **int8 per output channel, symmetric** — ``qweight`` int8 ``(N, K)`` in [-127, 127],
  ``scales`` ``(N,)``; ``W ≈ qweight * scales[:, None]``.
* **int4 group-wise, asymmetric** — ``K`` is cut into groups of ``group_size`` consecutive input
  features. ``packed`` uint8 ``(N, K // 2)``: two 4-bit values per byte along ``K``, element
  ``2j`` in the low nibble and ``2j + 1`` in the high nibble of byte ``j`` (see ``pack_int4``).
  ``scales`` ``(N, K // group_size)``, ``zeros`` uint8 ``(N, K // group_size)`` in [0, 15];
  ``W[n, k] ≈ (q[n, k] - zeros[n, k // g]) * scales[n, k // g]``. Without zeros (``None``)
  the int4 code is symmetric around 8: ``W ≈ (q - 8) * scale``.

Scales keep the dtype of the weight they came from (fp16/bf16/fp32); kernels upcast to fp32.
Rounding follows GPTQ/AWQ's min-max "zero point" scheme (RTN, no calibration data).
"""

from __future__ import annotations

import torch

INT4_SYMMETRIC_ZERO = 8


def pack_int4(q: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Pack 4-bit codes (uint8 in [0, 15]) two per byte along ``dim``.

    Element ``2j`` goes to the low nibble, ``2j + 1`` to the high nibble of output byte ``j``;
    the size along ``dim`` must be even and halves.
    """
    if q.dtype != torch.uint8:
        raise TypeError(f"pack_int4 expects uint8 codes, got {q.dtype}")
    dim = dim % q.ndim
    if q.shape[dim] % 2:
        raise ValueError(f"pack_int4 needs an even size along dim {dim}, got {q.shape[dim]}")
    if q.numel() and int(q.max()) > 15:
        raise ValueError("pack_int4 codes must lie in [0, 15]")
    q = q.movedim(dim, -1)
    low, high = q[..., 0::2], q[..., 1::2]
    return (low | (high << 4)).movedim(-1, dim).contiguous()


def unpack_int4(packed: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Inverse of ``pack_int4``: uint8 bytes -> uint8 codes in [0, 15], size along ``dim`` doubles."""
    if packed.dtype != torch.uint8:
        raise TypeError(f"unpack_int4 expects uint8, got {packed.dtype}")
    dim = dim % packed.ndim
    p = packed.movedim(dim, -1)
    codes = torch.stack((p & 0xF, p >> 4), dim=-1).flatten(-2)
    return codes.movedim(-1, dim).contiguous()


def quantize_int8_per_channel(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per output channel (row of ``w``): returns ``(qweight int8, scales (N,))``."""
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight (N, K), got shape {tuple(w.shape)}")
    wf = w.float()
    scales = wf.abs().amax(dim=1).clamp(min=1e-8) / 127.0
    q = torch.round(wf / scales[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scales.to(w.dtype)


def quantize_int4_groupwise(
    w: torch.Tensor, group_size: int = 128
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Asymmetric int4 per group of ``group_size`` input features.

    Returns ``(packed uint8 (N, K//2), scales (N, K//group_size), zeros uint8 (N, K//group_size))``.
    """
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight (N, K), got shape {tuple(w.shape)}")
    n, k = w.shape
    if group_size <= 0 or k % group_size or group_size % 2:
        raise ValueError(f"K={k} must be a multiple of an even group_size, got {group_size}")
    wg = w.float().reshape(n, k // group_size, group_size)
    wmin = wg.amin(dim=-1).clamp(max=0.0)
    wmax = wg.amax(dim=-1).clamp(min=0.0)
    scales = ((wmax - wmin) / 15.0).clamp(min=1e-8)
    zeros = torch.round(-wmin / scales).clamp(0, 15)
    q = torch.round(wg / scales[..., None] + zeros[..., None]).clamp(0, 15).to(torch.uint8)
    return pack_int4(q.reshape(n, k)), scales.to(w.dtype), zeros.to(torch.uint8)


def dequantize(
    qweight: torch.Tensor,
    scales: torch.Tensor,
    zeros: torch.Tensor | None,
    bits: int,
    group_size: int | None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Rebuild the ``(N, K)`` weight from either format (the reference for ``quant_matmul``)."""
    if bits == 8:
        q = qweight.float()
        default_zero = 0.0
    elif bits == 4:
        q = unpack_int4(qweight).float()
        default_zero = float(INT4_SYMMETRIC_ZERO)
    else:
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    n, k = q.shape
    g = k if group_size is None else group_size
    if k % g:
        raise ValueError(f"K={k} is not a multiple of group_size={g}")
    s = scales.float().reshape(n, -1)
    z = zeros.float().reshape(n, -1) if zeros is not None else torch.full_like(s, default_zero)
    if s.shape[1] != k // g or z.shape != s.shape:
        raise ValueError(f"scales/zeros of shape {tuple(scales.shape)} do not match K={k}, group={g}")
    w = (q.reshape(n, k // g, g) - z[..., None]) * s[..., None]
    return w.reshape(n, k).to(dtype)
