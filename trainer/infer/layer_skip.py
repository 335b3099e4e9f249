"""A layer-skipping self-draft for speculative decoding (as in LayerSkip, Elhoushi et al. 2024,
arXiv:2404.16710, without its early-exit training): the target's first `k` blocks, then the target's
own final norm and output head. It shares every weight with the target (no memory, no training,
the same tokenizer by construction), and its KV cache is separate, so
trainer/infer/speculative.py runs it as any other draft. Read raw, an early layer's residual stream
is a poor guess of the final one; `fit_exit_adapter` fits an affine map between the two on a few
thousand tokens of real text (no gradient training) and `with_exit_adapter` puts it before the head.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from trainer.model.transformer import Transformer


def layer_skip_draft(target: Transformer, k: int) -> Transformer:
    """A `Transformer` computing target's first k blocks + final norm + head (weights shared, not copied)."""
    n = target.cfg.n_layers
    if not 1 <= k < n:
        raise ValueError(f"a layer-skip draft keeps 1..{n - 1} of the target's {n} layers, got {k}")
    moe_layers = None if target.cfg.moe_layers is None else [i for i in target.cfg.moe_layers if i < k]
    draft = Transformer.__new__(Transformer)
    nn.Module.__init__(draft)  # skip Transformer.__init__: it would allocate and initialise fresh weights
    draft.cfg = dataclasses.replace(target.cfg, n_layers=k, moe_layers=moe_layers)
    draft.tok_embeddings, draft.norm, draft.output = target.tok_embeddings, target.norm, target.output
    draft.layers = nn.ModuleList(list(target.layers)[:k])
    draft.register_buffer("inv_freq", target.inv_freq, persistent=False)
    draft.rope_scale = target.rope_scale
    return draft.train(target.training)


@torch.no_grad()
def fit_exit_adapter(target: Transformer, k: int, windows: torch.Tensor, ridge: float = 1e-3) -> nn.Linear:
    """An affine map from the residual stream after block k to the one after the last block, fitted by
    ridge least squares on the tokens of `windows` (S, T) ("tuned lens", Belrose et al. 2023,
    arXiv:2303.08112, solved in closed form instead of by SGD): a draft that exits at block k reads its
    head through it, so it predicts what the full model would rather than what layer k "says"."""
    taps: dict[str, torch.Tensor] = {}
    hooks = [target.layers[k - 1].register_forward_hook(lambda _m, _i, out: taps.__setitem__("early", out)),
             target.layers[-1].register_forward_hook(lambda _m, _i, out: taps.__setitem__("final", out))]
    xs, ys = [], []
    try:
        for row in windows:
            target(row[None])
            xs.append(taps["early"][0].float())
            ys.append(taps["final"][0].float())
    finally:
        for hook in hooks:
            hook.remove()
    x, y = torch.cat(xs), torch.cat(ys)
    x1 = torch.cat([x, torch.ones(len(x), 1)], dim=1)
    gram = x1.T @ x1
    gram += ridge * gram.diagonal().mean() * torch.eye(gram.shape[0])
    solution = torch.linalg.solve(gram, x1.T @ y)  # (dim + 1, dim)
    adapter = nn.Linear(x.shape[1], y.shape[1])
    adapter.weight.copy_(solution[:-1].T)
    adapter.bias.copy_(solution[-1])
    return adapter.to(target.tok_embeddings.weight.dtype)


def with_exit_adapter(draft: Transformer, adapter: nn.Linear) -> Transformer:
    """The draft with `adapter` applied to its last hidden state before the final norm."""
    draft.norm = nn.Sequential(adapter, draft.norm)
    return draft
