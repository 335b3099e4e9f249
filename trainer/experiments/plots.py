"""The sweep's two figures: the fitted loss surface against the runs, and the IsoFLOP profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.experiments.scaling_fit import IsoFlopFit, ScalingFit


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display in a task or CI
    import matplotlib.pyplot as plt

    return plt


def plot_fit(fit: ScalingFit, params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, path: Path) -> Path:
    """Loss against tokens, one colour per model size: the runs as dots, the fit L(N, D) as lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sizes = np.unique(params)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(sizes)))
    d_grid = np.logspace(np.log10(tokens.min() / 1.5), np.log10(tokens.max() * 1.5), 100)
    for n, color in zip(sizes, colors, strict=True):
        mask = params == n
        ax.scatter(tokens[mask], loss[mask], color=color, s=18, label=f"N={n / 1e6:.2g}M")
        ax.plot(d_grid, fit.loss(n, d_grid), color=color, lw=1)
    ax.axhline(fit.E, color="grey", ls=":", lw=1, label=f"E={fit.E:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("training tokens D")
    ax.set_ylabel("final held-out loss (nats/token)")
    ax.set_title(f"L = {fit.E:.3g} + {fit.A:.3g}/N^{fit.alpha:.3g} + {fit.B:.3g}/D^{fit.beta:.3g}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_isoflops(iso: IsoFlopFit, path: Path, fit: ScalingFit | None = None) -> Path:
    """Loss against N per FLOP budget with each profile's parabola and minimum (Hoffmann et al. fig. 3)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    colors = plt.cm.plasma(np.linspace(0, 0.85, max(1, len(iso.profiles))))
    for profile, color in zip(iso.profiles, colors, strict=True):
        ax.scatter(profile.params, profile.loss, color=color, s=18, label=f"C={profile.flops:.2g}")
        if profile.parabola is not None:
            x = np.linspace(np.log10(min(profile.params)), np.log10(max(profile.params)), 60)
            ax.plot(10 ** x, np.polyval(profile.parabola, x), color=color, lw=1)
        if profile.n_opt is not None:
            ax.axvline(profile.n_opt, color=color, ls="--", lw=0.8)
        if fit is not None:
            n_opt, _ = fit.compute_optimal(profile.flops)
            ax.scatter([n_opt], [fit.loss(n_opt, profile.flops / (6 * n_opt))], marker="x", color=color, s=40)
    ax.set_xscale("log")
    ax.set_xlabel("non-embedding parameters N")
    ax.set_ylabel("final held-out loss (nats/token)")
    title = "IsoFLOP profiles (dashed: parabola minimum; x: approach-3 optimum)"
    if iso.exponent is not None:
        title += f"\nN_opt ~ C^{iso.exponent:.2f}"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
