"""GRPO's objective (Shao et al. 2024, DeepSeekMath §4.1), as pure tensor functions.

For each prompt, G completions o_i with rewards r_i; every token of o_i gets the advantage
A_i = (r_i - mean(r)) / (std(r) + eps) of its group (outcome supervision, no value model). The
per-token objective is PPO's clipped surrogate (Schulman et al. 2017) minus β·KL to a frozen
reference, with the unbiased, always-positive k3 estimator (Schulman 2020, "Approximating KL"):

    ratio = π(o_t) / π_old(o_t),   pg_t = min(ratio · A, clip(ratio, 1 - ε, 1 + ε) · A)
    kl_t  = π_ref/π - log(π_ref/π) - 1
    loss  = Σ_tokens (-pg_t + β kl_t) / (number of completion tokens in the batch)

The token-level normalisation (DAPO, Yu et al. 2025) weighs every token alike, so long completions
are not down-weighted as with DeepSeekMath's per-sequence mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def group_advantages(rewards: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """(num_groups, G) rewards -> advantages of the same shape; each row sums to zero, and a row of
    equal rewards is all zeros (no signal: every completion was equally good)."""
    mean = rewards.mean(dim=-1, keepdim=True)
    std = rewards.std(dim=-1, keepdim=True, unbiased=False)
    return (rewards - mean) / (std + eps)


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """log π(target) per position: logits (N, T, V), targets (N, T) -> (N, T), in fp32. Logits are divided
    by the sampling temperature so the ratio compares the distribution the tokens were drawn from."""
    logits = logits.float()
    if temperature > 0 and temperature != 1.0:
        logits = logits / temperature
    return -F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none").view(targets.shape)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    log_ratio = ref_logp - logp
    return torch.exp(log_ratio) - log_ratio - 1.0


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                total_tokens: float, clip_eps: float, beta: float = 0.0,
                ref_logp: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate (+ β·k3) summed over this micro-batch's completion tokens, divided by the whole
    batch's `total_tokens` (so micro-batches add up to the token mean). logp, old_logp, ref_logp, mask:
    (N, T); advantages: (N,) one per completion. Stats are sums over tokens, for the caller to average."""
    adv = advantages[:, None].to(logp.dtype)
    ratio = torch.exp(logp - old_logp)
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * adv)
    per_token = -surrogate
    stats = {"clipped": float((((ratio - 1.0).abs() > clip_eps).float() * mask).sum())}
    if beta > 0:
        if ref_logp is None:
            raise ValueError("beta > 0 needs the reference model's log-probabilities")
        kl = k3_kl(logp, ref_logp)
        per_token = per_token + beta * kl
        stats["kl"] = float((kl.detach() * mask).sum())
    loss = (per_token * mask).sum() / max(float(total_tokens), 1.0)
    return loss, stats


__all__ = ["group_advantages", "token_logprobs", "k3_kl", "policy_loss"]
