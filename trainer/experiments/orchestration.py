"""The experiments DAG's command lines (dags/llm_experiments.py), from its Params. No Airflow, no torch:
the DAG imports this at parse time and its plan task calls it.

Folder of one experiment (one DAG run): `<data_root>/experiments/<run id>/` (or the out_dir Param) with
runs/<name>/ (one training run each), fit/ (runs.csv, fit.json, fit.png, isoflops.png), check/ (the
compute-optimal run and check.json), ablation.csv, ablation.json and report.html.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trainer.experiments.sweep import LADDERS, Shape, TrainSettings, parse_budgets, plan_sweep, train_command

SWEEP, ABLATION = "scaling_sweep", "data_ablation"
HELDOUT_TEXT = "pipeline/resources/eval/heldout_text.jsonl.gz"  # real text none of the data runs trains on

# Defaults of the DAG's Params (the macros read them when a key is absent). Sized for 2 CPU cores.
PARAMS = {"mode": SWEEP, "tokens_dir": "", "data_run_id": "", "out_dir": "",
          "ladder": "cpu", "sizes": 6, "flop_budgets": "3e11,1e12,3e12", "check_factor": 4.0,
          "seq_len": 64, "micro_batch_size": 16, "min_steps": 10,
          "ablation_data_runs": "", "seeds": 3, "ablation_dim": 128, "ablation_layers": 4,
          "ablation_steps": 300, "heldout_text": HELDOUT_TEXT}


def param(params: Mapping, key: str) -> Any:
    value = params.get(key)
    return PARAMS[key] if value is None else value


def experiment_id(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id or "manual")


def experiment_dir(params: Mapping, run_id: str) -> str:
    return param(params, "out_dir") or str(Path(params["data_root"]) / "experiments" / experiment_id(run_id))


def tokens_dir(params: Mapping, data_run_id: str = "") -> str:
    run = data_run_id or param(params, "data_run_id")
    if not data_run_id and param(params, "tokens_dir"):
        return param(params, "tokens_dir")
    if not run:
        raise ValueError("no tokens: set the tokens_dir or data_run_id param")
    return str(Path(params["data_root"]) / run / "tokens")


def settings(params: Mapping, tokens: str) -> TrainSettings:
    return TrainSettings(tokens, int(param(params, "seq_len")), int(param(params, "micro_batch_size")))


def record(dag_params: Mapping, run_id: str, name: str, kind: str, **options: Any) -> str:
    """`python -m pipeline.experiments record` of one run; options are its --flags (None: left out)."""
    args = ["python", "-m", "pipeline.experiments", "record", "--experiment", experiment_id(run_id), "--name", name,
            "--kind", kind, "--data-root", dag_params["data_root"]]
    for key, value in options.items():
        if value not in (None, ""):
            args += [f"--{key.replace('_', '-')}", str(value)]
    return shlex.join(args)


def sweep_shapes(params: Mapping) -> list[Shape]:
    ladder = LADDERS[param(params, "ladder")]
    return list(ladder[:max(3, int(param(params, "sizes")))])


def sweep_commands(params: Mapping, run_id: str) -> list[str]:
    """One command per sweep run: train it, then record N, D, FLOPs and its final held-out loss."""
    exp, tokens = experiment_dir(params, run_id), tokens_dir(params)
    s = settings(params, tokens)
    runs = plan_sweep(sweep_shapes(params), parse_budgets(param(params, "flop_budgets")), s.tokens_per_step,
                      int(param(params, "min_steps")))
    out = []
    for run in runs:
        run_dir = f"{exp}/runs/{run.name}"
        out.append(train_command(Shape(run.dim, run.n_layers), run.steps, run_dir, s) + " && " + record(
            params, run_id, run.name, "sweep", params=run.params, tokens=run.tokens,
            metrics=f"{run_dir}/metrics.jsonl", data_run=param(params, "data_run_id"), run_dir=run_dir))
    return out


def ablation_runs(params: Mapping) -> list[str]:
    return [r for r in re.split(r"[,\s]+", param(params, "ablation_data_runs")) if r]


def ablation_commands(params: Mapping, run_id: str) -> list[str]:
    """Per data run (variant) and seed: train the same small model, score it on the fixed held-out text
    in bits per byte, record both."""
    exp = experiment_dir(params, run_id)
    shape = Shape(int(param(params, "ablation_dim")), int(param(params, "ablation_layers")))
    out = []
    for variant in ablation_runs(params):
        for seed in range(int(param(params, "seeds"))):
            name, run_dir = f"{variant}-s{seed}", f"{exp}/runs/{variant}-s{seed}"
            heldout = shlex.join(["python", "-m", "trainer.experiments.heldout", "--run", run_dir,
                                  "--text", param(params, "heldout_text"), "--out", f"{run_dir}/heldout.json"])
            out.append(" && ".join([
                train_command(shape, int(param(params, "ablation_steps")), run_dir,
                              settings(params, tokens_dir(params, variant)), seed=seed),
                heldout,
                record(params, run_id, name, "ablation", metrics=f"{run_dir}/metrics.jsonl",
                       heldout=f"{run_dir}/heldout.json", data_run=variant, variant=variant, seed=seed,
                       params=shape.params, run_dir=run_dir)]))
    return out


def plan_commands(params: Mapping, run_id: str) -> list[str]:
    """The mapped training task's commands for the chosen mode."""
    return sweep_commands(params, run_id) if param(params, "mode") == SWEEP else ablation_commands(params, run_id)


def check_budget(params: Mapping) -> float:
    return max(parse_budgets(param(params, "flop_budgets"))) * float(param(params, "check_factor"))


def fit_command(params: Mapping, run_id: str) -> str:
    exp = experiment_dir(params, run_id)
    export = shlex.join(["python", "-m", "pipeline.experiments", "runs-csv", "--experiment", experiment_id(run_id),
                         "--kind", "sweep", "--data-root", params["data_root"], "--out", f"{exp}/fit/runs.csv"])
    fit = shlex.join(["python", "-m", "trainer", "fit-scaling", "--runs", f"{exp}/fit/runs.csv",
                      "--budget", f"{check_budget(params):.6g}", "--out", f"{exp}/fit"])
    return f"{export} && {fit}"


def check_command(params: Mapping, run_id: str) -> str:
    exp = experiment_dir(params, run_id)
    s = settings(params, tokens_dir(params))
    check = shlex.join(["python", "-m", "trainer.experiments.check", "--fit", f"{exp}/fit/fit.json",
                        "--data", s.tokens_dir, "--out", f"{exp}/check", "--seq-len", str(s.seq_len),
                        "--micro-batch-size", str(s.micro_batch_size), "--ladder", param(params, "ladder"),
                        "--sizes", str(len(sweep_shapes(params)))])
    return f"{check} && " + record(params, run_id, "check", "check", check=f"{exp}/check/check.json",
                                   data_run=param(params, "data_run_id"), run_dir=f"{exp}/check")


def compare_command(params: Mapping, run_id: str) -> str:
    exp = experiment_dir(params, run_id)
    export = shlex.join(["python", "-m", "pipeline.experiments", "runs-csv", "--experiment", experiment_id(run_id),
                         "--kind", "ablation", "--data-root", params["data_root"], "--out", f"{exp}/ablation.csv"])
    stats = shlex.join(["python", "-m", "trainer.experiments.ablation", "--runs", f"{exp}/ablation.csv",
                        "--out", f"{exp}/ablation.json"])
    return f"{export} && {stats}"


def report_command(params: Mapping, run_id: str) -> str:
    exp = experiment_dir(params, run_id)
    return shlex.join(["python", "-m", "pipeline.experiments", "report", "--experiment", experiment_id(run_id),
                       "--dir", exp, "--data-root", params["data_root"], "--out", f"{exp}/report.html"])
