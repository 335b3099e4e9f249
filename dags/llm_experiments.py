"""Experiments DAG: a Chinchilla scaling sweep or a data ablation, chosen by the `mode` Param.

- scaling_sweep: plan -> train_run (one mapped task per model size x FLOP budget, on one data run's
  token shards; each records N, D, FLOPs and its final held-out loss in the catalog's experiments table)
  -> fit (`python -m trainer fit-scaling`: L(N,D) = E + A/N^a + B/D^b and the IsoFLOP minima, two PNGs)
  -> check (the predicted compute-optimal model trained at check_factor x the largest budget; predicted
  vs actual loss recorded) -> report.
- data_ablation: plan -> train_run (the same small model on each data run of ablation_data_runs x seeds,
  scored in bits per byte on one fixed held-out set of real text) -> compare (mean +/- std, which
  differences exceed noise) -> report. Make the variants with the data DAG (llm_data_pipeline) and its
  Params (run_filter, run_dedup, quality_keep_fraction, ...), one run_id per variant.

Wiring only: trainer/experiments/orchestration.py builds every command line (see "Rendered Template");
the mapped task's commands come from the plan task. The branch the mode turns off renders `exit 99`
(skipped). The report: `<data_root>/experiments/<run id>/report.html`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

from pipeline.orchestration import default_data_root
from trainer.experiments import orchestration as exp

REPO = Path(__file__).resolve().parent.parent
TASK_ENV = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO)}
MACROS = {name: getattr(exp, name) for name in ("fit_command", "check_command", "compare_command", "report_command")}
D = exp.PARAMS


def command(macro: str, mode: str | None = None) -> str:
    line = "{{ " + macro + "(params, run_id) }}"
    return line if mode is None else "{% if params.mode == '" + mode + "' %}" + line + "{% else %}exit 99{% endif %}"


with DAG(
    dag_id="llm_experiments",
    description="Scaling-law sweep (fit + compute-optimal check) or data ablation, from the Params form.",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    user_defined_macros=MACROS,
    tags=["llm-pipeline", "experiments"],
    params={
        "mode": Param(D["mode"], enum=[exp.SWEEP, exp.ABLATION], title="Experiment",
                      description="scaling_sweep: sizes x FLOP budgets, fit, check. data_ablation: one small "
                                  "model on each data run x seeds, scored on held-out real text."),
        "data_root": Param(default_data_root(), type="string", title="Data root"),
        "data_run_id": Param(D["data_run_id"], type="string", title="Sweep: data run id",
                             description="The data run whose tokens the sweep trains on."),
        "tokens_dir": Param(D["tokens_dir"], type="string", title="Sweep: tokens directory",
                            description="Empty: data_root/data_run_id/tokens."),
        "out_dir": Param(D["out_dir"], type="string", title="Output directory",
                         description="Empty: data_root/experiments/<this run id>."),
        "ladder": Param(D["ladder"], enum=sorted(exp.LADDERS), title="Size ladder",
                        description="cpu: ~0.1M to ~19M non-embedding params; gpu: ~5M to ~200M."),
        "sizes": Param(D["sizes"], type="integer", minimum=3, maximum=7, title="Sweep: model sizes (smallest first)"),
        "flop_budgets": Param(D["flop_budgets"], type="string", title="Sweep: FLOP budgets (C = 6ND)",
                              description="Comma-separated; each size trains D = C/(6N) tokens."),
        "check_factor": Param(D["check_factor"], type="number", minimum=1, title="Check: budget x largest"),
        "seq_len": Param(D["seq_len"], type="integer", minimum=8, title="Sequence length"),
        "micro_batch_size": Param(D["micro_batch_size"], type="integer", minimum=1, title="Batch (sequences)"),
        "min_steps": Param(D["min_steps"], type="integer", minimum=1, title="Sweep: fewest steps a run may have"),
        "ablation_data_runs": Param(D["ablation_data_runs"], type="string", title="Ablation: data runs",
                                    description="Comma-separated data run ids (variants), each with tokens/."),
        "seeds": Param(D["seeds"], type="integer", minimum=1, title="Ablation: seeds per variant"),
        "ablation_dim": Param(D["ablation_dim"], type="integer", minimum=32, title="Ablation: model width"),
        "ablation_layers": Param(D["ablation_layers"], type="integer", minimum=1, title="Ablation: layers"),
        "ablation_steps": Param(D["ablation_steps"], type="integer", minimum=1, title="Ablation: steps"),
        "heldout_text": Param(D["heldout_text"], type="string", title="Ablation: held-out real text (JSONL)"),
    },
) as dag:
    @task(retries=0)
    def plan(params=None, run_id=None) -> list[str]:
        return exp.plan_commands(params, run_id)

    def bash(task_id: str, macro: str, mode: str | None = None, **kwargs) -> BashOperator:
        return BashOperator(task_id=task_id, bash_command=command(macro, mode), env=TASK_ENV, append_env=True,
                            cwd=str(REPO), **kwargs)

    runs = BashOperator.partial(task_id="train_run", env=TASK_ENV, append_env=True, cwd=str(REPO),
                                max_active_tis_per_dag=1).expand(bash_command=plan())
    fit = bash("fit", "fit_command", exp.SWEEP)
    check = bash("check", "check_command", exp.SWEEP)
    compare = bash("compare", "compare_command", exp.ABLATION)
    report = bash("report", "report_command", trigger_rule="none_failed")

    runs >> [fit, compare]
    fit >> check >> report
    compare >> report
