"""Fit Chinchilla scaling laws to a sweep's runs and print the compute-optimal model for a FLOP budget.

    python -m trainer fit-scaling --runs runs.csv [--budget 4e12] [--out DIR]

runs.csv has the columns params,tokens,loss (params: non-embedding parameters N; tokens: D; loss: final
held-out loss), one row per run; `python -m pipeline.experiments runs-csv` writes it from the catalog.
Prints one JSON object: approach 3's E, A, B, alpha, beta and, with --budget, N_opt, D_opt and the
predicted loss there, plus approach 2's IsoFLOP exponent and its N_opt. --out also writes fit.json,
fit.png and isoflops.png. A bad file (a missing column, a non-positive value, fewer runs than the five
fitted parameters need) exits with status 2 and the reason.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

from trainer.command import ConfigError
from trainer.experiments.scaling_fit import N_PARAMS, fit_isoflops, fit_loss_surface

COLUMNS = ("params", "tokens", "loss")


def read_runs(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(params, tokens, loss) columns of a runs file; ConfigError says what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such runs file")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path}: missing column(s) {', '.join(missing)} (needs {','.join(COLUMNS)})")
        rows = list(reader)
    values = {c: [] for c in COLUMNS}
    for line, row in enumerate(rows, start=2):
        for c in COLUMNS:
            try:
                v = float(row[c])
            except (TypeError, ValueError):
                raise ConfigError(f"{path}:{line}: {c} {row[c]!r} is not a number") from None
            if not math.isfinite(v) or v <= 0:
                raise ConfigError(f"{path}:{line}: {c} must be positive, got {row[c]}")
            values[c].append(v)
    if len(rows) <= N_PARAMS:
        raise ConfigError(f"{path}: {len(rows)} run(s); fitting E, A, B, alpha, beta needs at least {N_PARAMS + 1}")
    return tuple(np.array(values[c]) for c in COLUMNS)


def fit_report(params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, budget: float | None) -> dict:
    fit = fit_loss_surface(params, tokens, loss)
    iso = fit_isoflops(params, tokens, loss)
    residual = np.log(loss) - np.log(fit.loss(params, tokens))
    out = {**fit.as_dict(), "runs": int(len(loss)), "rms_log_residual": float(np.sqrt(np.mean(residual ** 2))),
           "isoflop": {"exponent": iso.exponent, "log10_k": iso.log10_k,
                       "profiles": [{"flops": p.flops, "runs": len(p.params), "n_opt": p.n_opt}
                                    for p in iso.profiles]}}
    if budget:
        n_opt, d_opt = fit.compute_optimal(budget)
        out.update(budget=budget, N_opt=n_opt, D_opt=d_opt, predicted_loss=float(fit.loss(n_opt, d_opt)))
        iso_opt = iso.compute_optimal(budget)
        out["isoflop"]["N_opt"], out["isoflop"]["D_opt"] = iso_opt if iso_opt else (None, None)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", required=True, help="CSV with columns params,tokens,loss")
    parser.add_argument("--budget", type=float, help="FLOP budget C for the compute-optimal N and D (6ND = C)")
    parser.add_argument("--out", help="folder for fit.json, fit.png and isoflops.png")


def run_cli(args: argparse.Namespace) -> int:
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget > 0):
        raise ConfigError(f"--budget must be a positive FLOP count, got {args.budget}")
    params, tokens, loss = read_runs(args.runs)
    report = fit_report(params, tokens, loss, args.budget)
    if args.out:
        from trainer.experiments import plots
        from trainer.experiments.scaling_fit import ScalingFit

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        fit = ScalingFit(**{k: report[k] for k in ("E", "A", "B", "alpha", "beta", "objective")})
        plots.plot_fit(fit, params, tokens, loss, out / "fit.png")
        plots.plot_isoflops(fit_isoflops(params, tokens, loss), out / "isoflops.png", fit)
        (out / "fit.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report), flush=True)
    return 0
