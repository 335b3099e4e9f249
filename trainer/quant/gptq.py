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
calibration activations that have passed through the already-quantized blocks before it.
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
                         block_size: int = 128, act_order: bool = False):
    """GPTQ for one (N, K) weight and its (K, K) Hessian: (packed uint8, scales (N, G), zeros uint8 (N, G))."""
    w = weight.detach().float().clone()
    n, k = w.shape
    dev = w.device
    g = group_size_for(k, group_size)
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
            scales[:, gi], zeros[:, gi] = min_max_params(w[:, gi * g:(gi + 1) * g])
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
                scales[:, gi], zeros[:, gi] = min_max_params(rest)
            q = _codes(w1[:, i], scales[:, gi], zeros[:, gi])
            codes[:, col] = q
            err = (w1[:, i] - (q - zeros[:, gi]) * scales[:, gi]) / hinv1[i, i]
            w1[:, i:] -= err[:, None] * hinv1[i, i:][None, :]
            err1[:, i] = err
        w[:, b1:] -= err1 @ hinv[b0:b1, b1:]
    dtype = weight.dtype
    return pack_int4(codes.to(torch.uint8)), scales.to(dtype), zeros.to(torch.uint8)


class _BlockDone(Exception):
    """Raised after the block being calibrated: its later blocks need not run (a 30-layer model:
    465 block forwards per calibration batch instead of 900)."""


def _stop_forward(_module, _inp, _out):
    raise _BlockDone


def _block_hessians(model, block: nn.Module, calibration: torch.Tensor, batch: int) -> dict[str, HessianAccumulator]:
    linears = {name: m for name, m in block.named_modules() if isinstance(m, nn.Linear)}
    accs = {name: HessianAccumulator(m.in_features, m.weight.device) for name, m in linears.items()}
    hooks = [m.register_forward_hook(lambda _m, inp, _out, a=accs[name]: a.add(inp[0]))
             for name, m in linears.items()]
    hooks.append(block.register_forward_hook(_stop_forward))  # later blocks would be wasted work
    try:
        for s in range(0, calibration.shape[0], batch):
            with contextlib.suppress(_BlockDone):
                model(calibration[s:s + batch])
    finally:
        for hook in hooks:
            hook.remove()
    return accs


@torch.no_grad()
def gptq_quantize_model(model, calibration: torch.Tensor, qcfg: QuantConfig, batch: int = 8):
    """Quantize every block's linears with GPTQ, block by block, in place."""
    model.eval()
    device = model.tok_embeddings.weight.device
    calibration = calibration.to(device)
    for i, block in enumerate(model.layers):
        accs = _block_hessians(model, block, calibration, batch)
        for name, acc in accs.items():
            lin = block.get_submodule(name)
            packed, s, z = gptq_quantize_weight(lin.weight, acc.h, qcfg.group_size, qcfg.damp_percent,
                                                qcfg.block_size, qcfg.act_order)
            g = group_size_for(lin.in_features, qcfg.group_size)
            layer = QuantLinear.from_codes(packed, s, z, 4, g).to(device)
            replace_module(model, f"layers.{i}.{name}", layer)
    return model
