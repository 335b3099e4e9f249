"""Operator kernels: Triton on CUDA, plain PyTorch elsewhere, behind one dispatcher.

Public API (see ``kernels.dispatch`` for how the implementation is chosen):

* ``attention(q, k, v, causal=True, impl=None)`` — flash attention with GQA, differentiable.
* ``rms_norm(x, weight, eps=1e-6, impl=None)`` — fused RMSNorm, differentiable.
* ``apply_rope(x, cos, sin, impl=None)`` — rotary embedding, "rotate halves" (HF Llama) layout.
* ``quant_matmul(x, qweight, scales, zeros, bits, group_size, impl=None)`` — int8/int4 weight-only.
* ``kernels.quant_format`` — ``pack_int4``/``unpack_int4`` and the quantize helpers.

Imports only torch here; triton is imported when a Triton kernel is first used.
"""

from .dispatch import IMPLS, apply_rope, attention, quant_matmul, resolve_impl, rms_norm, triton_available
from .quant_format import (
    dequantize,
    pack_int4,
    quantize_int4_groupwise,
    quantize_int8_per_channel,
    unpack_int4,
)
from .reference import (
    attention_reference,
    causal_mask,
    quant_matmul_reference,
    rms_norm_reference,
    rope_cos_sin,
    rope_reference,
)

__all__ = [
    "IMPLS",
    "apply_rope",
    "attention",
    "attention_reference",
    "causal_mask",
    "dequantize",
    "pack_int4",
    "quant_matmul",
    "quant_matmul_reference",
    "quantize_int4_groupwise",
    "quantize_int8_per_channel",
    "resolve_impl",
    "rms_norm",
    "rms_norm_reference",
    "rope_cos_sin",
    "rope_reference",
    "triton_available",
    "unpack_int4",
]
