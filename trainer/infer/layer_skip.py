"""A layer-skipping self-draft for speculative decoding (as in LayerSkip, Elhoushi et al. 2024,
arXiv:2404.16710, without its early-exit training): the target's first `k` blocks, then the target's
own final norm and output head. It shares every weight with the target (no memory, no training,
the same tokenizer by construction), and its KV cache is separate, so
trainer/infer/speculative.py runs it as any other draft.
"""

from __future__ import annotations

import dataclasses

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
