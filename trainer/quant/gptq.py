"""GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
Transformers", arXiv:2210.17323): int4 group-wise weights that minimise ||W X - Ŵ X||² per layer.

For a linear layer with inputs X (K, n), H = 2 X Xᵀ / n is the Hessian of that error. Columns are
quantized one at a time; each column's rounding error is spread over the columns not yet quantized
through the inverse Hessian (Optimal Brain Surgeon), read from the upper Cholesky factor of H⁻¹
(the paper's numerically stable form), with updates applied lazily per block of columns.
`damp_percent` adds λ = damp · mean(diag H) to the diagonal; `act_order` visits columns by
decreasing diag(H) (the paper's "act-order" heuristic) with static groups: each group's scale and
zero are fixed from the unmodified weights, so codes keep the plain `kernels.quant_format` layout
(no per-column group index).

Layers are quantized block by block (transformer block, in order); each block's Hessians come from
calibration activations that have passed through the already-quantized blocks before it. Those
activations are carried from block to block (the paper's layer-by-layer pass), never recomputed from
the embeddings.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn

from kernels.quant_format import pack_int4
from trainer.quant.linear import QuantConfig, QuantLinear, group_size_for, replace_module
from trainer.train.data import PackedWindows, TokenShards

INT4_MAX = 15


def calibration_windows(tokens_dir, qcfg: QuantConfig, max_seq_len: int) -> torch.Tensor:
    """(S, T) token windows drawn at random (seeded) from the train shards."""
    seq_len = qcfg.calib_seq_len or max_seq_len
    windows = PackedWindows(TokenShards(tokens_dir).split("train"), seq_len)
    if len(windows) == 0:
        raise ValueError(f"{tokens_dir}: no train window of {seq_len + 1} tokens for calibration")
    rng = np.random.default_rng(qcfg.seed)
    idx = rng.choice(len(windows), size=min(qcfg.calib_samples, len(windows)), replace=False)
    return windows.batch(sorted(idx.tolist()))[0]


def min_max_params(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Asymmetric int4 scale and zero per row of w (N, g): kernels.quant_format's RTN rule."""
    wmin = w.amin(dim=1).clamp(max=0.0)
    wmax = w.amax(dim=1).clamp(min=0.0)
    scale = ((wmax - wmin) / INT4_MAX).clamp(min=1e-8)
    zero = torch.round(-wmin / scale).clamp(0, INT4_MAX)
    return scale, zero


def _codes(w: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
    return torch.clamp(torch.round(w / scale + zero), 0, INT4_MAX)


def clipped_params(w: torch.Tensor, grid: int = 20, max_shrink: float = 0.2,
                   norm: float = 2.4) -> tuple[torch.Tensor, torch.Tensor]:
    """min_max_params with the range shrunk per row to the factor (1, 0.95, ..., 1 - max_shrink) that
    minimises sum |w - ŵ|^norm: clipping a few outliers buys a finer step for every other weight. The
    reference GPTQ quantizer's `mse` search (grid 100, shrink 0.8, norm 2.4), coarser here."""
    best_err = torch.full((w.shape[0],), float("inf"), device=w.device)
    best_scale, best_zero = min_max_params(w)
    for i in range(int(max_shrink * grid) + 1):
        scale, zero = min_max_params(w * (1 - i / grid))
        err = ((_codes(w, scale[:, None], zero[:, None]) - zero[:, None]) * scale[:, None] - w).abs().pow(norm).sum(1)
        better = err < best_err
        best_err = torch.where(better, err, best_err)
        best_scale = torch.where(better, scale, best_scale)
        best_zero = torch.where(better, zero, best_zero)
    return best_scale, best_zero


class HessianAccumulator:
    """Running H = 2/n Σ x xᵀ over every input row a layer sees (a forward hook)."""

    def __init__(self, in_features: int, device: torch.device | str | None = None):
        self.h = torch.zeros(in_features, in_features, dtype=torch.float32, device=device)
        self.n = 0

    def add(self, x: torch.Tensor) -> None:
        x = x.reshape(-1, x.shape[-1]).float().to(self.h.device)
        m = x.shape[0]
        self.h *= self.n / (self.n + m)
        self.n += m
        x = x * (2.0 / self.n) ** 0.5
        self.h += x.t() @ x


@torch.no_grad()
def gptq_quantize_weight(weight: torch.Tensor, h: torch.Tensor, group_size: int, damp_percent: float = 0.01,
                         block_size: int = 128, act_order: bool = False, mse_clip: bool = False):
    """GPTQ for one (N, K) weight and its (K, K) Hessian: (packed uint8, scales (N, G), zeros uint8 (N, G))."""
    w = weight.detach().float().clone()
    n, k = w.shape
    dev = w.device
    g = group_size_for(k, group_size)
    group_params = clipped_params if mse_clip else min_max_params
    h = h.clone().float().to(dev)
    dead = torch.diag(h) == 0  # inputs that were always zero: any value works, keep H invertible
    h[dead, dead] = 1.0
    w[:, dead] = 0.0

    # Group parameters: static (from the unmodified weights) under act-order, else set when each
    # group's first column is reached, from the error-updated weights (the paper's algorithm).
    scales = torch.zeros(n, k // g, device=dev)
    zeros = torch.zeros(n, k // g, device=dev)
    if act_order:
        for gi in range(k // g):
            scales[:, gi], zeros[:, gi] = group_params(w[:, gi * g:(gi + 1) * g])
        perm = torch.argsort(torch.diag(h), descending=True)
    else:
        perm = torch.arange(k, device=dev)
    w, h = w[:, perm], h[perm][:, perm]
    h += damp_percent * torch.mean(torch.diag(h)) * torch.eye(k, device=dev)
    # Upper Cholesky factor of H^-1: row i holds the OBS update of column i onto later columns.
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)

    codes = torch.zeros(n, k, device=dev)
    order = perm.tolist()  # one host copy, not a device sync per column
    for b0 in range(0, k, block_size):
        b1 = min(b0 + block_size, k)
        w1, err1, hinv1 = w[:, b0:b1].clone(), torch.zeros(n, b1 - b0, device=dev), hinv[b0:b1, b0:b1]
        for i in range(b1 - b0):
            col = order[b0 + i]
            gi = col // g
            if not act_order and col % g == 0:  # first column of its group (columns in order here)
                rest = torch.cat((w1[:, i:], w[:, b1:]), dim=1)[:, :g]
                scales[:, gi], zeros[:, gi] = group_params(rest)
            q = _codes(w1[:, i], scales[:, gi], zeros[:, gi])
            codes[:, col] = q
            err = (w1[:, i] - (q - zeros[:, gi]) * scales[:, gi]) / hinv1[i, i]
            w1[:, i:] -= err[:, None] * hinv1[i, i:][None, :]
            err1[:, i] = err
        w[:, b1:] -= err1 @ hinv[b0:b1, b1:]
    dtype = weight.dtype
    return pack_int4(codes.to(torch.uint8)), scales.to(dtype), zeros.to(torch.uint8)


class _Captured(Exception):
    """Raised by the first block's pre-hook once it has recorded its inputs: the rest of the model need not run."""


def _first_block_inputs(model, calibration: torch.Tensor, batch: int) -> tuple[list[torch.Tensor], tuple, dict]:
    """The first block's input per calibration batch, and the other arguments the model passes every block
    (RoPE cos/sin, ...): afterwards each block runs alone on its predecessor's outputs, so a model of L blocks
    costs 2L block forwards per batch, not the L(L+1)/2 of re-running the prefix for every block."""
    inputs: list[torch.Tensor] = []
    shared: dict = {}

    def capture(_module, args, kwargs):
        inputs.append(args[0])
        shared.setdefault("args", args[1:])
        shared.setdefault("kwargs", kwargs)
        raise _Captured

    hook = model.layers[0].register_forward_pre_hook(capture, with_kwargs=True)
    try:
        for s in range(0, calibration.shape[0], batch):
            with contextlib.suppress(_Captured):
                model(calibration[s:s + batch])
    finally:
        hook.remove()
    return inputs, shared["args"], shared["kwargs"]


def _block_hessians(block: nn.Module, inputs: list[torch.Tensor], args: tuple, kwargs: dict) -> dict[str, HessianAccumulator]:
    linears = {name: m for name, m in block.named_modules() if isinstance(m, nn.Linear)}
    accs = {name: HessianAccumulator(m.in_features, m.weight.device) for name, m in linears.items()}
    hooks = [m.register_forward_hook(lambda _m, inp, _out, a=accs[name]: a.add(inp[0]))
             for name, m in linears.items()]
    try:
        for x in inputs:
            block(x, *args, **kwargs)
    finally:
        for hook in hooks:
            hook.remove()
    return accs


@torch.no_grad()
def gptq_quantize_model(model, calibration: torch.Tensor, qcfg: QuantConfig, batch: int = 8):
    """Quantize every block's linears with GPTQ, block by block, in place."""
    model.eval()
    device = model.tok_embeddings.weight.device
    inputs, args, kwargs = _first_block_inputs(model, calibration.to(device), batch)
    for i, block in enumerate(model.layers):
        accs = _block_hessians(block, inputs, args, kwargs)
        for name, acc in accs.items():
            lin = block.get_submodule(name)
            packed, s, z = gptq_quantize_weight(lin.weight, acc.h, qcfg.group_size, qcfg.damp_percent,
                                                qcfg.block_size, qcfg.act_order, qcfg.mse_clip)
            g = group_size_for(lin.in_features, qcfg.group_size)
            layer = QuantLinear.from_codes(packed, s, z, 4, g).to(device)
            replace_module(model, f"layers.{i}.{name}", layer)
        inputs = [block(x, *args, **kwargs) for x in inputs]  # through the quantized block: the next one's inputs
    return model
