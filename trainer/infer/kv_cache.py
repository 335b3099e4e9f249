"""The key/value cache of incremental decoding, and the masks and positions that go with it.

`Transformer.forward(tokens, cache=..., positions=..., mask=...)` (trainer/model/transformer.py) hands layer i
the object `cache[i]`; its `update(k, v)` appends this step's keys/values and returns everything
cached so far, so a decode step attends over the prompt without recomputing it.

Prompts of different lengths share one batch by **left padding**: pad slots are masked out as keys
and every real token's RoPE position counts only real tokens before it, so a padded sequence's
logits equal the unpadded sequence's. The buffers are preallocated (no concatenation per step), and
`truncate(n)` rolls the cache back, which speculative decoding needs after rejected draft tokens.

With NTK ("dynamic") RoPE scaling, keys cached before a sequence outgrew the pretraining length keep
the base they were rotated with, while recomputation would re-rotate them (HF's cache behaves alike).
"""

from __future__ import annotations

import torch


class LayerKV:
    """One layer's keys and values: (B, H_kv, capacity, D) buffers filled up to `length`."""

    def __init__(self, batch: int, n_kv_heads: int, capacity: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device | str | None):
        shape = (batch, n_kv_heads, capacity, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)
        self.length = 0

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = k.shape[2]
        end = self.length + t
        if end > self.k.shape[2]:
            raise ValueError(f"KV cache full: {self.length} + {t} tokens > capacity {self.k.shape[2]}")
        self.k[:, :, self.length:end] = k
        self.v[:, :, self.length:end] = v
        self.length = end
        return self.k[:, :, :end], self.v[:, :, :end]


class KVCache:
    """Every layer's `LayerKV`; `len(cache)` tokens are cached (the same for each layer)."""

    def __init__(self, cfg, batch: int, capacity: int, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None):
        self.capacity = capacity
        self.layers = [LayerKV(batch, cfg.n_kv_heads, capacity, cfg.head_dim, dtype, device)
                       for _ in range(cfg.n_layers)]

    def __getitem__(self, i: int) -> LayerKV:
        return self.layers[i]

    def __len__(self) -> int:
        return self.layers[0].length if self.layers else 0

    def truncate(self, length: int) -> None:
        """Forget every cached token from `length` on (rejected speculative tokens)."""
        for layer in self.layers:
            layer.length = min(layer.length, length)


def left_pad(prompts: list[list[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (B, T) int64, valid (B, T) bool): prompts right-aligned, pads on the left."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token")
    width = max(len(p) for p in prompts)
    tokens = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    valid = torch.zeros((len(prompts), width), dtype=torch.bool)
    for i, p in enumerate(prompts):
        tokens[i, width - len(p):] = torch.as_tensor(p, dtype=torch.long)
        valid[i, width - len(p):] = True
    return tokens, valid


def positions_from_valid(valid: torch.Tensor) -> torch.Tensor:
    """RoPE position of each slot: the number of real tokens before it (pads get 0)."""
    return (valid.long().cumsum(-1) - 1).clamp(min=0)


def attention_mask(valid: torch.Tensor, t_q: int) -> torch.Tensor:
    """Boolean (B, 1, t_q, T_k) mask for the last `t_q` of `valid`'s T_k slots: causal (bottom-right
    aligned, as after a cache) and blind to pad keys. A pad query may see itself, so no softmax row
    is empty (an all-masked row gives NaN); pad outputs are never attended by real tokens."""
    t_k = valid.shape[1]
    q_idx = torch.arange(t_k - t_q, t_k, device=valid.device)[:, None]
    k_idx = torch.arange(t_k, device=valid.device)[None, :]
    causal = k_idx <= q_idx
    return ((causal & valid[:, None, :]) | (k_idx == q_idx)).unsqueeze(1)
