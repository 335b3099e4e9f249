"""The sweep's check: train the model the fit calls compute-optimal for a budget beyond the grid and
compare its final held-out loss with the fit's prediction (goal: within 3%).

    python -m trainer.experiments.check --fit DIR/fit.json --data <run>/tokens --out DIR/check [--budget C]

fit.json is `python -m trainer fit-scaling --budget C --out DIR`'s. The trained shape is the nearest to
N_opt on the ladder (trainer/experiments/sweep.py), its tokens D = C/(6N) rounded to whole steps; the
prediction is the fit's L at that N and D (and, for reference, at N_opt, D_opt). Writes check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from trainer.experiments.scaling_fit import ScalingFit
from trainer.experiments.sweep import LADDERS, TrainSettings, nearest_shape, train_command

GOAL = 0.03  # the bar: predicted within 3% of actual


def final_val_loss(metrics_path: str | Path) -> float | None:
    """The last val_loss a run's metrics.jsonl holds (trainer/train/pretrain.py evaluates at the last step)."""
    value = None
    for line in Path(metrics_path).read_text().splitlines():
        if line.strip():
            value = json.loads(line).get("val_loss", value)
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.experiments.check", description=__doc__.split("\n\n")[0])
    p.add_argument("--fit", required=True, help="fit.json of `trainer fit-scaling --budget C --out DIR`")
    p.add_argument("--data", required=True, help="tokens directory (the sweep's)")
    p.add_argument("--out", required=True, help="run directory of the check; check.json goes in it")
    p.add_argument("--budget", type=float, help="FLOP budget (default: the one fit.json was made for)")
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--micro-batch-size", type=int, default=16)
    p.add_argument("--ladder", choices=sorted(LADDERS), default="cpu")
    p.add_argument("--sizes", type=int, default=0, help="the sweep's sizes: the ladder's first K (0: all)")
    args = p.parse_args(argv)
    fit_json = json.loads(Path(args.fit).read_text())
    budget = args.budget or fit_json.get("budget")
    if not budget or budget <= 0:
        print("error: no FLOP budget: pass --budget or fit with `fit-scaling --budget`", file=sys.stderr)
        return 2
    fit = ScalingFit(**{k: fit_json[k] for k in ("E", "A", "B", "alpha", "beta", "objective")})
    n_opt, d_opt = fit.compute_optimal(budget)
    settings = TrainSettings(args.data, args.seq_len, args.micro_batch_size)
    ladder = LADDERS[args.ladder][:args.sizes or None]
    shape = nearest_shape(n_opt, ladder) if n_opt > 0 and n_opt < float("inf") else ladder[0]
    steps = max(1, round(budget / (6.0 * shape.params) / settings.tokens_per_step))
    tokens = steps * settings.tokens_per_step
    line = train_command(shape, steps, args.out, settings)
    print(f"check: N_opt {n_opt:.3g} -> dim {shape.dim} x {shape.n_layers} layers (N {shape.params:,}), "
          f"{steps} steps = {tokens:,} tokens (D_opt {d_opt:.3g})\n{line}", flush=True)
    subprocess.run(shlex.split(line), check=True, env=os.environ.copy())
    actual = final_val_loss(Path(args.out) / "metrics.jsonl")
    predicted = float(fit.loss(shape.params, tokens))
    rel = None if actual is None else abs(predicted - actual) / actual
    result = {"budget": budget, "N_opt": n_opt, "D_opt": d_opt, "predicted_loss_at_opt": float(fit.loss(n_opt, d_opt)),
              "dim": shape.dim, "n_layers": shape.n_layers, "params": shape.params, "tokens": tokens,
              "flops": 6.0 * shape.params * tokens, "predicted_loss": predicted, "actual_loss": actual,
              "relative_error": rel, "goal": GOAL, "within_goal": rel is not None and rel <= GOAL}
    (Path(args.out) / "check.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
