"""The quantized linear layer, its settings and round-to-nearest (RTN) quantization.

Every `nn.Linear` inside the blocks becomes a `QuantLinear` holding codes, scales and zeros in the
`kernels.quant_format` layout and multiplying through `kernels.quant_matmul` (Triton on a GPU, the
dequantising reference elsewhere). int8 is symmetric per output channel; int4 is asymmetric per
group of input columns (RTN here, GPTQ in trainer/quant/gptq.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

import kernels
from kernels.quant_format import quantize_int4_groupwise, quantize_int8_per_channel
from trainer.model.transformer import Transformer

METHODS = ("int8", "int4-rtn", "int4-gptq")


@dataclass
class QuantConfig:
    method: str = "int8"  # one of METHODS
    # 128 is GPTQ's and AWQ's usual int4 group; a layer whose width it does not divide uses the gcd.
    group_size: int = 128
    damp_percent: float = 0.01  # GPTQ: λ = 1% of the mean Hessian diagonal (the paper's default)
    # GPTQ: columns by decreasing Hessian diagonal (static groups). On by default, with mse_clip: on SmolLM2-135M
    # int4 g128 the two took held-out perplexity from +36.8% to +23.1% (RTN +37.9%; trainer/README.md).
    act_order: bool = True
    mse_clip: bool = True  # GPTQ: each group's range shrunk to the clip that minimises its rounding error
    block_size: int = 128  # GPTQ: columns updated lazily per block (the paper's B = 128)
    calib_samples: int = 128  # GPTQ: windows drawn from the train shards (the paper: 128 x 2048)
    calib_seq_len: int = 0  # 0: the model's max_seq_len
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")


class QuantLinear(nn.Module):
    """y = x @ dequant(W)^T; W stays packed (int8 (N, K) or two int4 per byte (N, K/2))."""

    def __init__(self, in_features: int, out_features: int, bits: int, group_size: int | None,
                 scale_dtype: torch.dtype = torch.float32):
        super().__init__()
        self.in_features, self.out_features, self.bits, self.group_size = in_features, out_features, bits, group_size
        n_groups = 1 if group_size is None else in_features // group_size
        if bits == 8:
            self.register_buffer("qweight", torch.zeros(out_features, in_features, dtype=torch.int8))
            self.register_buffer("scales", torch.zeros(out_features, dtype=scale_dtype))
            self.zeros = None
        else:
            self.register_buffer("qweight", torch.zeros(out_features, in_features // 2, dtype=torch.uint8))
            self.register_buffer("scales", torch.zeros(out_features, n_groups, dtype=scale_dtype))
            self.register_buffer("zeros", torch.zeros(out_features, n_groups, dtype=torch.uint8))

    @classmethod
    def from_codes(cls, qweight, scales, zeros, bits: int, group_size: int | None) -> QuantLinear:
        n = qweight.shape[0]
        k = qweight.shape[1] * (2 if bits == 4 else 1)
        layer = cls(k, n, bits, group_size, scales.dtype).to(qweight.device)
        layer.qweight.copy_(qweight)
        layer.scales.copy_(scales.reshape(layer.scales.shape))
        if zeros is not None:
            layer.zeros.copy_(zeros)
        return layer

    def dequantized(self) -> torch.Tensor:
        return kernels.dequantize(self.qweight, self.scales, self.zeros, self.bits, self.group_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return kernels.quant_matmul(x, self.qweight, self.scales, self.zeros, self.bits, self.group_size)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, bits={self.bits}, group={self.group_size}"


def group_size_for(in_features: int, group_size: int) -> int:
    """The requested group when it divides the layer's width, else their gcd (kept even)."""
    g = group_size if in_features % group_size == 0 else math.gcd(in_features, group_size)
    if g % 2:
        raise ValueError(f"no even group size divides in_features={in_features} (asked {group_size})")
    return g


def rtn_linear(weight: torch.Tensor, bits: int, group_size: int) -> QuantLinear:
    """Round-to-nearest: int8 symmetric per output channel, or int4 asymmetric per group."""
    if bits == 8:
        q, s = quantize_int8_per_channel(weight)
        return QuantLinear.from_codes(q, s, None, 8, None)
    g = group_size_for(weight.shape[1], group_size)
    packed, s, z = quantize_int4_groupwise(weight, g)
    return QuantLinear.from_codes(packed, s, z, 4, g)


def quantizable(model: Transformer) -> list[tuple[str, nn.Linear]]:
    """The blocks' linears (attention and MLP, experts included): what weight-only methods quantize."""
    return [(f"layers.{name}", m) for name, m in model.layers.named_modules() if isinstance(m, nn.Linear)]


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)


def model_bytes(model: nn.Module) -> int:
    """Bytes of the saved tensors (parameters and persistent buffers), a tied tensor counted once."""
    seen, total = set(), 0
    for t in model.state_dict().values():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total
