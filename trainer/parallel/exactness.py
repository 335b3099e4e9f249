"""A plain fp32 training loop shared by the exactness tests and benchmarks/parallel.py.

The same loss, optimizer (torch AdamW, no ZeRO) and gradient clipping for the single-rank reference
and every parallel layout, so any difference is the layout's. Gradients of DTensor parameters are
compared (and clipped) as full tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributed.tensor import DTensor

from trainer.model.transformer import ModelConfig, Transformer

TINY = dict(vocab_size=96, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128, max_seq_len=32)


def tiny_model(seed: int = 0, **changes) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(ModelConfig(**{**TINY, **changes}))


def batches(cfg: ModelConfig, steps: int, batch: int, seq: int, seed: int = 1) -> list[torch.Tensor]:
    """(batch, seq + 1) token windows: inputs are [:, :-1], targets [:, 1:]."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, cfg.vocab_size, (batch, seq + 1), generator=g) for _ in range(steps)]


def full(t: torch.Tensor) -> torch.Tensor:
    return t.full_tensor() if isinstance(t, DTensor) else t


def grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Full gradients by parameter name (a collective when some are DTensors)."""
    return {n: full(p.grad).detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def clip_(params: list[torch.nn.Parameter], max_norm: float) -> None:
    norm = torch.sqrt(sum(full(p.grad).float().pow(2).sum() for p in params if p.grad is not None))
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad.mul_(scale.item())


def optimizer(params: list[torch.nn.Parameter], lr: float = 3e-3) -> torch.optim.AdamW:
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.1, foreach=False)


def train(model: torch.nn.Module, data: list[torch.Tensor], loss_fn: Callable, lr: float = 3e-3,
          after_backward: Callable | None = None, on_first_grads: Callable | None = None,
          max_norm: float | None = 1.0, opt: torch.optim.Optimizer | None = None,
          after_step: Callable | None = None) -> list[float]:
    """AdamW steps over `data`; `loss_fn(model, window) -> (loss to backprop, loss to report)`;
    `after_backward(model)` reduces gradients across ranks where a layout needs it;
    `after_step(i, model, opt)` after step i (1-based), e.g. to save a checkpoint."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = opt or optimizer(params, lr)
    losses = []
    for i, window in enumerate(data):
        opt.zero_grad(set_to_none=True)
        loss, reported = loss_fn(model, window)
        loss.backward()
        if after_backward is not None:
            after_backward(model)
        if i == 0 and on_first_grads is not None:
            on_first_grads(model)
        if max_norm is not None:
            clip_(params, max_norm)
        opt.step()
        losses.append(float(reported))
        if after_step is not None:
            after_step(i + 1, model, opt)
    return losses


def causal_lm_loss(model: torch.nn.Module, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits = model(window[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), window[:, 1:].flatten())
    return loss, loss.detach()
