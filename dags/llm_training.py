"""Training DAG: pretrain (DeepSpeed ZeRO) -> export (Hugging Face folder).

Wiring only. Scheduled on the data DAG's tokens Asset; each task runs the command a user would type
(`python -m trainer.train ...`, `deepspeed --num_gpus N --module trainer.train ...`,
`deepspeed --hostfile FILE ...`), built by trainer/launch.py and visible under "Rendered Template".
Where the tokens are: the `tokens_dir` Param; else the triggering asset event's extra["tokens_dir"];
else `<data_root>/<data_run_id>/tokens`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset, Param

from pipeline.config import TOKENS_ASSET_NAME
from pipeline.orchestration import default_data_root
from trainer import launch

REPO = Path(__file__).resolve().parent.parent
tokens = Asset(name=TOKENS_ASSET_NAME)


# The launchers and `python` of the environment Airflow runs in; the repo for `-m trainer.*`.
TASK_ENV = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO)}
ARGS = "params, triggering_asset_events, run_id"

with DAG(
    dag_id="llm_training",
    description="Pretrain a Llama-style model with DeepSpeed ZeRO on the tokenized data, then export it.",
    schedule=[tokens],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    user_defined_macros={
        "pretrain_command": partial(launch.dag_pretrain_command, asset_name=TOKENS_ASSET_NAME),
        "export_command": partial(launch.dag_export_command, asset_name=TOKENS_ASSET_NAME),
    },
    tags=["llm-pipeline", "training"],
    params={
        "preset": Param("tiny", enum=["tiny", "125m", "1b"], title="Model preset",
                        description="trainer/model.py PRESETS; the vocabulary comes from the tokenizer."),
        "steps": Param(200, type="integer", minimum=1, title="Training steps"),
        "zero_stage": Param(2, type="integer", enum=[0, 1, 2, 3], title="ZeRO stage"),
        "micro_batch_size": Param(8, type="integer", minimum=1, title="Micro batch per process"),
        "grad_accum": Param(1, type="integer", minimum=1, title="Gradient accumulation steps"),
        "lr": Param(0.0, type="number", minimum=0, title="Peak learning rate",
                    description="0: the preset's (trainer/zero.py PRESET_LR)."),
        "num_procs": Param(1, type="integer", minimum=1, title="Processes (GPUs, or CPU ranks)",
                           description=">1 launches `deepspeed --num_gpus N`."),
        "hostfile": Param("", type="string", title="DeepSpeed hostfile",
                          description="Multi-node: `deepspeed --hostfile FILE` (overrides num_procs)."),
        "tokens_dir": Param("", type="string", title="Tokens directory",
                            description="Empty: from the triggering data-DAG event, else data_root/data_run_id/tokens."),
        "data_root": Param(default_data_root(), type="string", title="Data root"),
        "data_run_id": Param("", type="string", title="Data run id",
                             description="Which data run's tokens to train on when not triggered by one."),
        "out_dir": Param("", type="string", title="Output directory",
                         description="Empty: <tokens_dir>/../pretrain/<this run id>."),
        "config_file": Param("", type="string", title="Training config YAML",
                             description="Optional trainer/config.py YAML; the fields above override it."),
    },
) as dag:
    pretrain = BashOperator(
        task_id="pretrain",
        bash_command="{{ pretrain_command(" + ARGS + ") }}",
        env=TASK_ENV, append_env=True, cwd=str(REPO),
    )
    export = BashOperator(
        task_id="export",
        bash_command="{{ export_command(" + ARGS + ") }}",
        env=TASK_ENV, append_env=True, cwd=str(REPO),
    )
    pretrain >> export
