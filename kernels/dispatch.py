"""One entry point per operator; picks the Triton kernel or the PyTorch reference.

Choice, first match wins:
1. the ``impl`` argument ("triton" or "torch");
2. the environment variable ``KERNELS_IMPL`` ("triton" or "torch"; empty or "auto" = unset);
3. the device: Triton for CUDA tensors when triton is installed, the reference elsewhere.

Only in case 3 does a shape the kernel does not cover (e.g. an odd head dim) quietly fall back to
the reference; an explicit "triton" raises instead. Triton modules are imported on first use, so
``import kernels`` needs neither triton nor CUDA. To run Triton on CPU tensors, set
``TRITON_INTERPRET=1`` before triton is first imported and pass ``impl="triton"``.
"""

from __future__ import annotations

import importlib.util
import os

import torch

from . import reference

IMPLS = ("triton", "torch")


def triton_available() -> bool:
    return importlib.util.find_spec("triton") is not None


def resolve_impl(impl: str | None, x: torch.Tensor) -> tuple[str, bool]:
    """Returns ``(impl, explicit)``; explicit is False when the device decided."""
    if impl is None:
        env = os.environ.get("KERNELS_IMPL", "").strip().lower()
        impl = None if env in ("", "auto") else env
    if impl is None:
        return ("triton" if x.is_cuda and triton_available() else "torch"), False
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS} (or None), got {impl!r}")
    return impl, True


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True, impl: str | None = None
) -> torch.Tensor:
    """Scaled dot-product attention, softmax scale 1/sqrt(D), differentiable.

    q (B, H, T_q, D); k, v (B, H_kv, T_k, D) with H % H_kv == 0 (grouped-query attention).
    Returns (B, H, T_q, D). ``causal`` masks bottom-right aligned (query i sees keys
    ``j <= i + T_k - T_q``), i.e. the ordinary lower triangle when T_q == T_k.
    """
    which, explicit = resolve_impl(impl, q)
    if which == "triton":
        from . import triton_attention

        if explicit or q.shape[-1] in triton_attention.SUPPORTED_HEAD_DIMS:
            return triton_attention.flash_attention(q, k, v, causal)
    return reference.attention_reference(q, k, v, causal)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6, impl: str | None = None) -> torch.Tensor:
    """RMSNorm over the last dim: ``x / sqrt(mean(x^2) + eps) * weight`` in fp32, returned in x's dtype."""
    which, explicit = resolve_impl(impl, x)
    if which == "triton":
        from . import triton_norm

        if explicit or x.shape[-1] <= triton_norm.MAX_FUSED_SIZE:
            return triton_norm.rms_norm(x, weight, eps)
    return reference.rms_norm_reference(x, weight, eps)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, impl: str | None = None) -> torch.Tensor:
    """Rotary embedding of x (B, H, T, D) with cos/sin tables (T, D/2), "rotate halves" layout.

    Matches HF transformers' Llama ``apply_rotary_pos_emb`` (feature i paired with i + D/2) when
    its width-D cos/sin are cut to their first half; see ``reference.rope_reference``.
    Gradients flow to x only; cos/sin are constants.
    """
    which, _ = resolve_impl(impl, x)
    if which == "triton":
        from . import triton_rope

        return triton_rope.apply_rope(x, cos, sin)
    return reference.rope_reference(x, cos, sin)


def quant_matmul(
    x: torch.Tensor,
    qweight: torch.Tensor,
    scales: torch.Tensor,
    zeros: torch.Tensor | None,
    bits: int,
    group_size: int | None,
    impl: str | None = None,
) -> torch.Tensor:
    """``x @ W^T`` for a weight-only quantized W in the ``kernels.quant_format`` layout.

    bits=8: qweight int8 (N, K), scales (N,) [or (N, K/group_size)]. bits=4: qweight uint8
    (N, K/2) from ``pack_int4``, scales/zeros (N, K/group_size). Inference only (no autograd).
    """
    which, explicit = resolve_impl(impl, x)
    if which == "triton":
        k = x.shape[-1]
        groupwise = group_size is not None and group_size < k
        if explicit or not groupwise or group_size % 32 == 0:
            from . import triton_quant

            return triton_quant.quant_matmul(x, qweight, scales, zeros, bits, group_size)
    return reference.quant_matmul_reference(x, qweight, scales, zeros, bits, group_size)
