"""Chinchilla scaling-law fits (Hoffmann et al. 2022, arXiv:2203.15556) of final loss on params N and tokens D.

- Approach 3: L(N, D) = E + A/N^alpha + B/D^beta, fitted as the paper's appendix D.2 does: the Huber loss
  (delta 1e-3) between log L and LSE(a - alpha log N, b - beta log D, e), with A = e^a, B = e^b, E = e^e,
  minimised by L-BFGS from a grid of initialisations; the best local minimum wins.
- Approach 2: IsoFLOP profiles. Runs of (nearly) one FLOP budget C = 6ND form a profile; a parabola in
  log N gives its loss-minimising N_opt(C); a line through (log C, log N_opt) gives N_opt = k C^a.

Pure functions of arrays (numpy, and torch's L-BFGS: scipy is not a dependency); no I/O.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

# Hoffmann et al.'s initialisation grid (appendix D.2): alpha, beta in {0, .5, ..., 2}, e in {-1, -.5, ..., 1},
# a, b in {0, 5, ..., 25}: 4,500 starts. All are scored at once; L-BFGS runs from the best TOP_STARTS
# (on Chinchilla's law with noise, 4, 8 and 24 starts reached the same optimum; each costs ~1 s here).
GRID = {"alpha": np.arange(0.0, 2.01, 0.5), "beta": np.arange(0.0, 2.01, 0.5), "e": np.arange(-1.0, 1.01, 0.5),
        "a": np.arange(0.0, 25.1, 5.0), "b": np.arange(0.0, 25.1, 5.0)}
TOP_STARTS = 8
HUBER_DELTA = 1e-3  # Hoffmann et al. appendix D.2
N_PARAMS = 5  # E, A, B, alpha, beta: a fit needs more runs than this
# Runs of one IsoFLOP budget: a sweep rounds each run's tokens to whole steps (a small model's by a few %,
# the largest's by up to 1/min_steps), and budgets are spaced 3x or more apart.
REL_TOL = 0.3
PROFILE_HALF_WIDTH = 2  # runs each side of an IsoFLOP profile's lowest that its parabola uses


@dataclass(frozen=True)
class ScalingFit:
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    objective: float  # mean Huber loss at the optimum

    def loss(self, n: float | np.ndarray, d: float | np.ndarray) -> float | np.ndarray:
        return self.E + self.A / np.power(n, self.alpha) + self.B / np.power(d, self.beta)

    def compute_optimal(self, flops: float) -> tuple[float, float]:
        """(N_opt, D_opt) minimising L under 6ND = flops (Hoffmann et al. eq. 4)."""
        a, b = self.alpha, self.beta
        g = (a * self.A / (b * self.B)) ** (1.0 / (a + b))
        n = g * (flops / 6.0) ** (b / (a + b))
        return n, flops / (6.0 * n)

    def as_dict(self) -> dict:
        return asdict(self)


def _objective(theta: torch.Tensor, log_n: torch.Tensor, log_d: torch.Tensor, log_l: torch.Tensor) -> torch.Tensor:
    """Mean Huber loss per start: theta is (starts, 5) = (a, b, e, alpha, beta)."""
    a, b, e, alpha, beta = theta.unbind(-1)
    terms = torch.stack([a[:, None] - alpha[:, None] * log_n, b[:, None] - beta[:, None] * log_d,
                         e[:, None].expand(-1, log_n.shape[0])], dim=-1)
    pred = torch.logsumexp(terms, dim=-1)
    return torch.nn.functional.huber_loss(pred, log_l.expand_as(pred), delta=HUBER_DELTA,
                                          reduction="none").mean(-1)


def fit_loss_surface(params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, top_starts: int = TOP_STARTS,
                     max_iter: int = 200) -> ScalingFit:
    """Approach 3 on runs (params N, tokens D, final loss). Needs more than N_PARAMS runs, all positive."""
    params, tokens, loss = (np.asarray(x, dtype=np.float64) for x in (params, tokens, loss))
    if len(loss) <= N_PARAMS:
        raise ValueError(f"{len(loss)} runs: a fit of {N_PARAMS} parameters needs at least {N_PARAMS + 1}")
    if min(params.min(), tokens.min(), loss.min()) <= 0:
        raise ValueError("params, tokens and loss must all be positive")
    log_n, log_d, log_l = (torch.tensor(np.log(x), dtype=torch.float64) for x in (params, tokens, loss))
    starts = torch.tensor([(a, b, e, al, be) for al, be, e, a, b in itertools.product(
        GRID["alpha"], GRID["beta"], GRID["e"], GRID["a"], GRID["b"])], dtype=torch.float64)
    with torch.no_grad():
        scores = _objective(starts, log_n, log_d, log_l)
    best_theta, best_value = None, math.inf
    for i in torch.argsort(scores)[:top_starts].tolist():
        theta = starts[i:i + 1].clone().requires_grad_(True)
        opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=max_iter, tolerance_grad=1e-12,
                                tolerance_change=1e-14, history_size=20, line_search_fn="strong_wolfe")

        def closure(theta=theta, opt=opt):
            opt.zero_grad()
            value = _objective(theta, log_n, log_d, log_l).sum()
            value.backward()
            return value

        opt.step(closure)
        with torch.no_grad():
            value = float(_objective(theta, log_n, log_d, log_l)[0])
        if math.isfinite(value) and value < best_value:
            best_theta, best_value = theta.detach()[0].tolist(), value
    if best_theta is None:
        raise ValueError("no initialisation converged to a finite loss")
    a, b, e, alpha, beta = best_theta
    return ScalingFit(E=math.exp(e), A=math.exp(a), B=math.exp(b), alpha=alpha, beta=beta, objective=best_value)


@dataclass(frozen=True)
class IsoFlopProfile:
    flops: float
    params: list[float]
    loss: list[float]
    n_opt: float | None  # the parabola's minimum; None when it opens downward or lies outside the runs
    parabola: list[float] | None  # loss = c2 x^2 + c1 x + c0 with x = log10 N


@dataclass(frozen=True)
class IsoFlopFit:
    profiles: list[IsoFlopProfile]
    exponent: float | None  # a in N_opt = k C^a (Hoffmann et al. table 2: 0.49 for approach 2)
    log10_k: float | None

    def compute_optimal(self, flops: float) -> tuple[float, float] | None:
        if self.exponent is None or self.log10_k is None:
            return None
        n = 10 ** (self.log10_k + self.exponent * math.log10(flops))
        return n, flops / (6.0 * n)


def isoflop_groups(params: np.ndarray, tokens: np.ndarray, rel_tol: float = REL_TOL) -> list[np.ndarray]:
    """Indices of runs whose FLOPs 6ND lie within `rel_tol` of their group's smallest."""
    flops = 6.0 * np.asarray(params, dtype=np.float64) * np.asarray(tokens, dtype=np.float64)
    order = np.argsort(flops)
    groups, current = [], [order[0]] if len(order) else []
    for i in order[1:]:
        if flops[i] <= flops[current[0]] * (1 + rel_tol):
            current.append(i)
        else:
            groups.append(np.array(current))
            current = [i]
    if current:
        groups.append(np.array(current))
    return groups


def fit_isoflops(params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, rel_tol: float = REL_TOL) -> IsoFlopFit:
    """Approach 2: a parabola per IsoFLOP profile of at least 3 sizes, then N_opt against C in log-log."""
    params, tokens, loss = (np.asarray(x, dtype=np.float64) for x in (params, tokens, loss))
    profiles = []
    for idx in isoflop_groups(params, tokens, rel_tol):
        order = idx[np.argsort(params[idx])]
        n, lo = params[order], loss[order]
        flops = float(np.exp(np.mean(np.log(6.0 * n * tokens[order]))))
        n_opt, coef = None, None
        if len(np.unique(n)) >= 3:
            # A profile is a parabola in log N only near its minimum: fit the lowest run and up to
            # PROFILE_HALF_WIDTH neighbours on each side (a wide grid's far ends would bend it).
            best = int(np.argmin(lo))
            near = slice(max(0, min(best - PROFILE_HALF_WIDTH, len(n) - 3)), best + PROFILE_HALF_WIDTH + 1)
            x = np.log10(n[near])
            coef = np.polyfit(x, lo[near], 2)
            if coef[0] > 0:
                vertex = -coef[1] / (2 * coef[0])
                if x.min() <= vertex <= x.max():  # an extrapolated vertex says the budget's grid missed it
                    n_opt = float(10 ** vertex)
            coef = coef.tolist()
        profiles.append(IsoFlopProfile(flops, n.tolist(), lo.tolist(), n_opt, coef))
    found = [(p.flops, p.n_opt) for p in profiles if p.n_opt is not None]
    if len(found) < 2:
        return IsoFlopFit(profiles, None, None)
    slope, intercept = np.polyfit(np.log10([c for c, _ in found]), np.log10([n for _, n in found]), 1)
    return IsoFlopFit(profiles, float(slope), float(intercept))
