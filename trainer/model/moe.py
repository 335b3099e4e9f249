"""Mixture-of-experts feed-forward: a top-k router over SwiGLU experts, a load-balancing loss, capacity.

Routing follows Mixtral (Jiang et al. 2024, and HF's `MixtralSparseMoeBlock`): router logits from a
bias-free linear gate, softmax over all experts, keep the top k, renormalise them to sum to one
(equal to a softmax over the top-k logits), so an exported model routes exactly as ours does.

Load balancing: the Switch Transformer loss (Fedus et al. 2021, eq. 4) `n_experts · Σ_i f_i · P_i`,
f_i the fraction of the routed (token, choice) pairs sent to expert i (before any drop), P_i the
mean router probability of expert i. It is 1 when routing is uniform, and n_experts at worst.

Capacity (GShard, Lepikhin et al. 2020; Switch): in training each expert takes at most
`ceil(capacity_factor · tokens · top_k / n_experts)` assignments, first choices before second ones,
earlier tokens first; an assignment past that is dropped, and a token with every choice dropped
leaves the layer as zero, so the residual carries it through unchanged. Evaluation and inference
route dropless (as Mixtral and HF do), so exported logits match ours.

Each forward stashes its aux loss and router counts on the module (`last_aux_loss`, `last_stats`),
so `Transformer.forward(tokens) -> logits` stays the one interface; `aux_loss(model)` and
`RouterStats` collect them for the training loop.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Expert(nn.Module):
    """One SwiGLU MLP, named like trainer.model.transformer.FeedForward (w1 gate, w3 up, w2 down)."""

    def __init__(self, dim: int, ffn_dim: int):
        super().__init__()
        self.w1 = nn.Linear(dim, ffn_dim, bias=False)
        self.w3 = nn.Linear(dim, ffn_dim, bias=False)
        self.w2 = nn.Linear(ffn_dim, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def switch_aux_loss(probs: torch.Tensor, chosen: torch.Tensor, n_experts: int) -> torch.Tensor:
    """probs (N, E) router softmax, chosen (N, k) expert ids -> n_experts · Σ f_i P_i."""
    f = torch.bincount(chosen.flatten(), minlength=n_experts).to(probs.dtype) / chosen.numel()
    return n_experts * torch.sum(f * probs.mean(0))


def capacity_keep(chosen: torch.Tensor, n_experts: int, capacity: int) -> torch.Tensor:
    """(N, k) bool: which assignments fit their expert's capacity. Priority is choice rank, then token
    order (all first choices are placed before any second choice)."""
    order = chosen.t().reshape(-1)  # choice-major
    one_hot = F.one_hot(order, n_experts)
    position = (torch.cumsum(one_hot, 0) - 1).gather(1, order[:, None]).squeeze(1)
    return (position < capacity).reshape(chosen.shape[1], chosen.shape[0]).t()


class MoE(nn.Module):
    def __init__(self, dim: int, ffn_dim: int, n_experts: int, top_k: int, capacity_factor: float = 0.0):
        super().__init__()
        if not 1 <= top_k <= n_experts:
            raise ValueError(f"moe_top_k must be in [1, n_experts={n_experts}], got {top_k}")
        self.n_experts, self.top_k, self.capacity_factor = n_experts, top_k, capacity_factor
        self.gate = nn.Linear(dim, n_experts, bias=False)
        self.experts = nn.ModuleList(Expert(dim, ffn_dim) for _ in range(n_experts))
        self.last_aux_loss: torch.Tensor | None = None
        self.last_stats: dict[str, torch.Tensor] = {}

    def capacity(self, n_tokens: int) -> int | None:
        if not (self.training and self.capacity_factor > 0):
            return None
        return math.ceil(self.capacity_factor * n_tokens * self.top_k / self.n_experts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        logits = self.gate(x)
        probs = F.softmax(logits, dim=-1, dtype=torch.float32)
        top_p, chosen = torch.topk(probs, self.top_k, dim=-1)
        weights = (top_p / top_p.sum(-1, keepdim=True)).to(x.dtype)
        cap = self.capacity(x.shape[0])
        keep = torch.ones_like(chosen, dtype=torch.bool) if cap is None else capacity_keep(chosen, self.n_experts, cap)

        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            # Every expert runs, even on no tokens: ZeRO-3 gathers parameters in each module's forward,
            # and ranks must make the same collective calls.
            token, slot = torch.where((chosen == e) & keep)
            y = expert(x[token]) * weights[token, slot, None]
            out = out.index_add(0, token, y)

        self.last_aux_loss = switch_aux_loss(probs, chosen, self.n_experts)
        with torch.no_grad():
            self.last_stats = {
                "assigned": torch.bincount(chosen.flatten(), minlength=self.n_experts),
                "dropped": (~keep).sum(),
                "tokens_dropped": (~keep).all(-1).sum(),  # every choice dropped: residual only
                "tokens": torch.tensor(x.shape[0]),
            }
        return out.reshape(shape)


def moe_layers(model: nn.Module) -> list[MoE]:
    return [m for m in model.modules() if isinstance(m, MoE)]


def aux_loss(model: nn.Module) -> torch.Tensor | None:
    """Mean over MoE layers of the last forward's load-balancing loss; None for a dense model."""
    losses = [m.last_aux_loss for m in moe_layers(model) if m.last_aux_loss is not None]
    return torch.stack(losses).mean() if losses else None


class RouterStats:
    """Router counts summed over the micro-batches of a logging interval, per MoE layer."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.assigned: list[torch.Tensor] = []
        self.top_k = 1
        self.dropped = self.tokens_dropped = self.tokens = 0
        self.aux_sum, self.aux_count = 0.0, 0

    def add(self, model: nn.Module) -> None:
        layers = moe_layers(model)
        if not layers:
            return
        self.top_k = layers[0].top_k
        counts = [m.last_stats["assigned"].detach().cpu() for m in layers]
        self.assigned = counts if not self.assigned else [a + c for a, c in zip(self.assigned, counts, strict=True)]
        self.dropped += sum(int(m.last_stats["dropped"]) for m in layers)
        self.tokens_dropped += sum(int(m.last_stats["tokens_dropped"]) for m in layers)
        self.tokens += sum(int(m.last_stats["tokens"]) for m in layers)
        self.aux_sum += float(aux_loss(model).detach())
        self.aux_count += 1

    def values(self) -> list[float]:
        """Flat numbers for a cross-rank all-reduce; `record` turns them back into a metrics entry."""
        flat = [float(v) for counts in self.assigned for v in counts.tolist()]
        return flat + [float(self.dropped), float(self.tokens_dropped), float(self.tokens),
                       self.aux_sum / max(self.aux_count, 1)]

    def record(self, values: list[float] | None = None) -> dict:
        """{"aux_loss", "moe_load" (per layer: each expert's share of assignments), "moe_max_load"
        (the busiest expert's share × n_experts, 1.0 = balanced), "moe_dropped" (assignments past
        capacity), "moe_tokens_dropped" (tokens with every choice dropped), "moe_drop_rate"}, summed
        over layers and micro-batches (per rank, averaged across ranks); {} for a dense model."""
        if not self.assigned:
            return {}
        values = self.values() if values is None else values
        n_experts = len(self.assigned[0])
        loads = []
        for i in range(len(self.assigned)):
            counts = values[i * n_experts:(i + 1) * n_experts]
            total = sum(counts) or 1.0
            loads.append([round(c / total, 4) for c in counts])
        dropped, tokens_dropped, tokens, aux = values[-4:]
        return {"aux_loss": aux, "moe_load": loads,
                "moe_max_load": max(max(load) for load in loads) * n_experts,
                "moe_dropped": int(round(dropped)), "moe_tokens_dropped": int(round(tokens_dropped)),
                "moe_drop_rate": dropped / max(tokens * self.top_k, 1.0)}


def active_params(model: nn.Module) -> int:
    """Parameters one token passes through: an MoE layer counts its gate and top_k experts only
    (what 6·N training FLOPs should use; Fedus et al. 2021 compare models at equal active FLOPs)."""
    n = sum(p.numel() for p in model.parameters())
    for m in moe_layers(model):
        per_expert = sum(p.numel() for p in m.experts[0].parameters())
        n -= (m.n_experts - m.top_k) * per_expert
    return n
