"""KV-cache eviction: keep at most `budget` cached tokens per sequence and KV head while decoding.

    out = generate(model, prompts, 64, kv_policy=KVPolicy("snapkv", budget=256))

Policies rank the cached slots; after each forward step every (sequence, KV head) keeps its
`budget` best slots and drops the rest (pads first):
- `streaming` (StreamingLLM, Xiao et al. 2023): the first `sinks` real tokens (attention sinks,
  4 in the paper) plus the most recent ones.
- `h2o` (Zhang et al. 2023): a recent window (half the budget, as the paper's equal heavy/recent
  split) plus the "heavy hitters" with the largest attention accumulated over every query so far.
- `snapkv` (Li et al. 2024): the prompt's last `window` queries (32 in the paper) vote with their
  attention, summed over the GQA group and avg-pooled over 7 neighbouring slots (the paper's kernel);
  the window and the top-voted prompt slots stay. Generated tokens rank above every prompt slot,
  oldest evicted first, so a long generation shrinks the prompt part only.

Keys are cached after RoPE at their original positions (as H2O and SnapKV do; StreamingLLM's
re-positioning inside the cache is not reproduced). A step attends over the kept slots plus its
own new ones, then evicts, so a prefill longer than the budget still attends over its whole prompt.
With `budget` at least the sequence length nothing is evicted, and generation equals the full cache
(tests/trainer/test_kv_eviction.py). Attention is computed here (Attention.forward hands it over
when the layer cache has `attend`) because H2O and SnapKV need the weights SDPA does not return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

POLICIES = ("streaming", "h2o", "snapkv")
GENERATED = 1e9  # SnapKV: generated tokens rank above every prompt slot (scores are attention sums)


class KVPolicyError(ValueError):
    """A budget or policy that cannot work: one line, exit 2 in CLIs."""


@dataclass
class KVPolicy:
    name: str
    budget: int  # cached tokens kept per sequence and KV head
    sinks: int | None = None  # None: 4 for streaming (StreamingLLM), 0 otherwise
    window: int | None = None  # None: h2o budget // 2 (recent), snapkv min(32, budget // 2) (observation)
    pool: int = 7  # SnapKV's pooling kernel

    def __post_init__(self):
        if self.name not in POLICIES:
            raise KVPolicyError(f"KV policy must be one of {POLICIES}, got {self.name!r}")
        if self.sinks is None:
            self.sinks = 4 if self.name == "streaming" else 0
        if self.window is None:
            self.window = {"streaming": 0, "h2o": self.budget // 2, "snapkv": min(32, self.budget // 2)}[self.name]
        if self.sinks < 0 or self.window < 0 or self.pool < 1 or self.pool % 2 == 0:
            raise KVPolicyError(f"sinks {self.sinks} and window {self.window} must be >= 0, pool odd >= 1")
        if self.budget < self.sinks + self.window + 1:
            raise KVPolicyError(f"KV budget {self.budget} is below the minimum sinks + window + 1 = "
                                f"{self.sinks + self.window + 1} for {self.name}")

    def make_cache(self, cfg) -> EvictingKVCache:
        return EvictingKVCache(cfg, self)


def parse_policy(spec: str) -> KVPolicy | None:
    """'h2o:256', 'streaming:128:4' (sinks), 'snapkv:256:0:32' (sinks, window); '' or 'full': None."""
    if spec in ("", "full", "none"):
        return None
    name, *nums = spec.split(":")
    try:
        values = [int(x) for x in nums]
    except ValueError:
        raise KVPolicyError(f"KV policy {spec!r}: expected name:budget[:sinks[:window]] with integers") from None
    if not 1 <= len(values) <= 3:
        raise KVPolicyError(f"KV policy {spec!r}: expected name:budget[:sinks[:window]]")
    return KVPolicy(name, *values)


class EvictingLayerKV:
    """One layer's kept keys/values (B, H_kv, n, D), the slot each came from, its score and validity."""

    def __init__(self, policy: KVPolicy):
        self.policy = policy
        self.k = self.v = None
        self.slot = self.score = self.valid = None
        self.length = 0  # slots processed (kept or evicted)
        self.first_real: torch.Tensor | None = None  # (B, 1, 1): the first non-pad slot (sinks count from it)
        self._prompt_end = 0  # snapkv: slots of the first (prefill) step

    def update(self, k, v):
        raise NotImplementedError("an evicting cache computes attention itself (EvictingLayerKV.attend)")

    def kept(self) -> int:
        return 0 if self.k is None else self.k.shape[2]

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """q (B, H, t, D), this step's k/v (B, H_kv, t, D), mask (B, 1, t, slots) over every slot so far."""
        B, H, t, D = q.shape
        h_kv = k.shape[1]
        start, end = self.length, self.length + t
        if mask is None:
            mask = torch.ones(t, end, dtype=torch.bool, device=q.device).tril(end - t).expand(B, 1, t, end)
        new_slot = torch.arange(start, end, device=q.device).expand(B, h_kv, t)
        new_valid = mask[:, :, -1, start:end].expand(B, h_kv, t)  # the last query is real and sees all real keys
        if self.first_real is None:
            self.first_real = new_valid[:, :1].float().argmax(-1, keepdim=True)
        if self.k is None:
            keys, values, slots, valid = k, v, new_slot, new_valid
            score = torch.zeros(B, h_kv, t, device=q.device)
        else:
            keys, values = torch.cat([self.k, k], 2), torch.cat([self.v, v], 2)
            slots, valid = torch.cat([self.slot, new_slot], 2), torch.cat([self.valid, new_valid], 2)
            score = torch.cat([self.score, torch.zeros(B, h_kv, t, device=q.device)], 2)
        m = slots.shape[2]
        allowed = mask.expand(B, h_kv, t, end).gather(3, slots[:, :, None, :].expand(B, h_kv, t, m))
        group = H // h_kv
        logits = (q.float() @ keys.float().repeat_interleave(group, 1).transpose(-1, -2)) / math.sqrt(D)
        logits = logits.masked_fill(~allowed.repeat_interleave(group, 1), float("-inf"))
        weights = logits.softmax(-1)  # (B, H, t, m)
        y = (weights @ values.float().repeat_interleave(group, 1)).to(q.dtype)
        self.length, self._valid_now = end, valid
        self._keep(keys, values, slots, valid, self._scores(score, weights, slots, start, group, t), end)
        return y

    def _scores(self, score, weights, slots, start, group, t) -> torch.Tensor:
        B, H, _, m = weights.shape
        received = weights.view(B, H // group, group, t, m)
        name = self.policy.name
        if name == "h2o":
            return score + received.sum((2, 3))
        if name == "streaming":
            return slots.float()
        # snapkv: the prompt (first call) is voted on by its observation window; later tokens rank above it
        if start == 0:
            w = max(1, min(self.policy.window, t))
            votes = received[:, :, :, -w:].sum((2, 3))
            return self._pool(votes, self._valid_now)
        return torch.where(slots >= self._prompt_end, GENERATED + slots.float(), score)

    def _pool(self, votes: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Mean of the votes over `pool` neighbouring real slots (left pads excluded, so a padded
        prompt scores as it does alone)."""
        shape, k = votes.shape, self.policy.pool
        real = valid.float().reshape(-1, 1, shape[-1])
        total = F.avg_pool1d(votes.reshape(-1, 1, shape[-1]) * real, k, stride=1, padding=k // 2)
        count = F.avg_pool1d(real, k, stride=1, padding=k // 2)
        return (total / count.clamp(min=1e-9)).view(shape)

    def _keep(self, keys, values, slots, valid, score, end) -> None:
        if self.policy.name == "snapkv" and self.k is None:
            self._prompt_end = end
        p, m = self.policy, slots.shape[2]
        if m > p.budget:
            priority = score.clone()
            recent = slots >= end - p.window
            sink = (slots - self.first_real) < p.sinks
            priority[recent | sink] = float("inf")
            priority[~valid] = float("-inf")
            idx = priority.topk(p.budget, dim=-1).indices.sort(-1).values
            keys = keys.gather(2, idx[..., None].expand(-1, -1, -1, keys.shape[-1]))
            values = values.gather(2, idx[..., None].expand(-1, -1, -1, values.shape[-1]))
            slots, valid, score = slots.gather(2, idx), valid.gather(2, idx), score.gather(2, idx)
        self.k, self.v, self.slot, self.valid, self.score = keys, values, slots, valid, score


class EvictingKVCache:
    """Drop-in for trainer.infer.kv_cache.KVCache under a `KVPolicy`; `len()` counts slots processed."""

    def __init__(self, cfg, policy: KVPolicy):
        self.policy = policy
        self.layers = [EvictingLayerKV(policy) for _ in range(cfg.n_layers)]

    def __getitem__(self, i: int) -> EvictingLayerKV:
        return self.layers[i]

    def __len__(self) -> int:
        return self.layers[0].length if self.layers else 0

    def truncate(self, length: int) -> None:
        if length < len(self):
            raise ValueError("an evicting KV cache cannot roll back (speculative decoding needs the full cache)")

    def nbytes(self) -> int:
        """Bytes of the keys and values kept now (every layer, every sequence)."""
        return sum(2 * layer.k.numel() * layer.k.element_size() for layer in self.layers if layer.k is not None)


def kv_bytes_per_token(cfg, bytes_per_value: int = 4) -> int:
    """K and V of one token across every layer and KV head."""
    return 2 * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * bytes_per_value


__all__ = ["KVPolicy", "KVPolicyError", "POLICIES", "EvictingKVCache", "parse_policy", "kv_bytes_per_token"]
