"""Mixture planning: how many epochs of each group's tokens the mixture takes.

Given the tokens each group (domain, or domain/source) holds and target token shares, a group
with more than its share is down-sampled (epochs < 1) and one with less is repeated (epochs > 1),
at most `max_epochs` times: Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models")
found up to ~4 epochs of repeated data nearly as good as fresh data, with returns fading after.
When the cap binds, either the whole mixture shrinks so every share is still met ("shrink"), or
capped groups stay at the cap and the others absorb their deficit ("renormalize").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class GroupPlan:
    group: str
    tokens_in: int
    target_share: float
    target_tokens: float
    epochs: float
    cap_bound: bool  # the cap stopped this group from reaching the share it was asked for


def target_shares(tokens: dict[str, int], weights: dict[str, float]) -> dict[str, float]:
    """Shares summing to 1. Listed groups get their weight; unlisted ones split the rest by size.

    Weights summing to 1 or more are normalised and unlisted groups get nothing; empty weights keep
    the natural shares. Groups with no tokens get no share (they cannot be sampled).
    """
    live = {g: t for g, t in tokens.items() if t > 0}
    listed = {g: max(0.0, float(w)) for g, w in weights.items() if g in live}
    total_listed = sum(listed.values())
    rest = {g: t for g, t in live.items() if g not in listed}
    shares = {g: 0.0 for g in tokens}
    if total_listed >= 1.0 or not rest:
        if total_listed <= 0:
            listed, total_listed = dict(live), float(sum(live.values()))
        for g, w in listed.items():
            shares[g] = w / total_listed
        return shares
    for g, w in listed.items():
        shares[g] = w
    rest_total = sum(rest.values())
    for g, t in rest.items():
        shares[g] = (1.0 - total_listed) * t / rest_total
    return shares


def plan_mix(tokens: dict[str, int], weights: dict[str, float], max_epochs: float,
             total_tokens: int = 0, on_cap: str = "shrink") -> tuple[list[GroupPlan], dict]:
    """Epochs per group for a mixture of `total_tokens` (0: as many tokens as the input holds)."""
    if max_epochs <= 0:
        raise ValueError("max_epochs must be > 0")
    if on_cap not in ("shrink", "renormalize"):
        raise ValueError(f"on_cap must be 'shrink' or 'renormalize', got {on_cap!r}")
    shares = target_shares(tokens, weights)
    requested = float(total_tokens or sum(tokens.values()))
    need = {g: shares[g] * requested / tokens[g] for g in tokens if shares[g] > 0}
    bound = sorted(g for g, e in need.items() if e > max_epochs + 1e-12)
    planned = requested
    if bound and on_cap == "shrink":
        planned = min(max_epochs * tokens[g] / shares[g] for g in bound)
        final = {g: shares[g] * planned for g in tokens}
    elif bound:
        final = _water_fill(tokens, shares, requested, max_epochs)
        planned = sum(final.values())
    else:
        final = {g: shares[g] * requested for g in tokens}
    plans = [GroupPlan(g, tokens[g], shares[g], final[g],
                       min(max_epochs, final[g] / tokens[g]) if tokens[g] else 0.0, g in bound)
             for g in sorted(tokens)]
    info = {"requested_tokens": int(requested), "planned_tokens": int(round(planned)),
            "max_epochs": max_epochs, "on_cap": on_cap, "cap_bound_groups": bound}
    return plans, info


def _water_fill(tokens: dict[str, int], shares: dict[str, float], total: float, cap: float) -> dict[str, float]:
    """Cap groups at `cap` epochs and hand their deficit to the others in proportion to their shares."""
    fixed: dict[str, float] = {}
    free = {g for g in tokens if shares[g] > 0}
    while True:
        budget = total - sum(fixed.values())
        free_share = sum(shares[g] for g in free)
        over = {g for g in free if free_share and shares[g] / free_share * budget > cap * tokens[g]}
        if not over:
            out = {g: 0.0 for g in tokens}
            out.update(fixed)
            out.update({g: shares[g] / free_share * budget if free_share else 0.0 for g in free})
            return out
        for g in over:
            fixed[g] = cap * tokens[g]
        free -= over


def plan_table(plans: list[GroupPlan]) -> list[dict]:
    return [asdict(p) for p in plans]
