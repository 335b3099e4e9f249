"""Training DAG: pretrain (DeepSpeed ZeRO) -> export -> evaluate (quantized variants) -> report,
with post-training (LoRA SFT -> GRPO -> export) and long-context extension (YaRN) as branches.
With a `base_model` (e.g. smollm2-135m-instruct) `import_base` imports it first (cached under
<data_root>/models/) and "pretrain" continues it (init_from, low LR, short warmup) instead of starting
from scratch; the data DAG must have tokenized with the same base (its base_model Param).

Wiring only. Scheduled on the data DAG's tokens Asset; each task runs the command a user would type
(`python -m trainer train ...`, `deepspeed --num_gpus N --module trainer train ...`,
`deepspeed --hostfile FILE ...`), built by trainer/orchestration.py and visible under "Rendered Template".
Branches a Param turns off render `exit 99`, which BashOperator reports as "skipped".
Where the tokens are: the `tokens_dir` Param; else the triggering asset event's extra["tokens_dir"];
else `<data_root>/<data_run_id>/tokens`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset, Param

from pipeline.config import TOKENS_ASSET_NAME
from pipeline.orchestration import default_data_root
from trainer import base_orchestration, compress_orchestration, eval_orchestration, orchestration

REPO = Path(__file__).resolve().parent.parent
tokens = Asset(name=TOKENS_ASSET_NAME)
# Param defaults sized for the bundled sample (dags/demo.yaml); the trainer's dataclasses hold the real-run ones.
DEMO = yaml.safe_load((Path(__file__).resolve().parent / "demo.yaml").read_text())["llm_training"]


# The launchers and `python` of the environment Airflow runs in; the repo for `-m trainer.*`.
TASK_ENV = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO)}
ARGS = "params, triggering_asset_events, run_id"


def command(macro: str, toggle: str | None = None) -> str:
    """The Jinja for a task's command line; `exit 99` (skipped) when its toggle Param is off."""
    line = "{{ " + macro + "(" + ARGS + ") }}"
    return line if toggle is None else "{% if params." + toggle + " %}" + line + "{% else %}exit 99{% endif %}"


MACROS = {name: partial(getattr(module, f"dag_{name}"), asset_name=TOKENS_ASSET_NAME)
          for module, names in (
              (orchestration, ("pretrain_command", "export_command", "record_eval_command", "report_command",
                               "sft_command", "grpo_command", "grpo_export_command", "extend_command",
                               "extend_export_command", "import_base_command")),
              (eval_orchestration, ("evaluate_command", "evaluate_base_command", "evaluate_posttrained_command")),
              (compress_orchestration, ("prune_command", "evaluate_pruned_command", "evaluate_kv_command")))
          for name in names}


def defaults_as_params(defaults: dict, titles: dict[str, str]) -> dict[str, Param]:
    """Params for an orchestration.*_PARAMS dict (the macros read the same defaults when a key is
    absent), with the demo's size where dags/demo.yaml gives one."""
    out = {}
    for key, value in defaults.items():
        kind = "boolean" if isinstance(value, bool) else "integer" if isinstance(value, int) else \
            "number" if isinstance(value, float) else "string"
        note = {"description": f"Demo-sized (dags/demo.yaml); real-run default {value}."} if key in DEMO else {}
        out[key] = Param(DEMO.get(key, value), type=kind, title=titles.get(key, key.replace("_", " ").capitalize()),
                         **note)
    return out

with DAG(
    dag_id="llm_training",
    description="Pretrain a Llama-style model with DeepSpeed ZeRO on the tokenized data, then export it.",
    schedule=[tokens],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    user_defined_macros=MACROS,
    tags=["llm-pipeline", "training"],
    params={
        "base_model": Param("", type="string", title="Base model to continue",
                            description="Empty: pretrain the preset from scratch. smollm2-135m-instruct, an HF "
                                        "Llama folder, a .gguf or an imported run dir: continued pretraining "
                                        "of it (its shape; preset ignored). Tokens must be in its vocabulary."),
        **defaults_as_params({k: v for k, v in base_orchestration.BASE_PARAMS.items() if k != "base_model"},
                             {"base_lr": "Base: continued-pretraining peak LR",
                              "base_warmup_steps": "Base: warmup steps", "base_seq_len": "Base: window length"}),
        **defaults_as_params(eval_orchestration.BASE_EVAL_PARAMS,
                             {"base_gsm8k_items": "Base: GSM8K test items per evaluated model",
                              "base_heldout_max_tokens": "Base: held-out real-text tokens scored"}),
        "preset": Param("tiny", enum=["tiny", "125m", "1b"], title="Model preset",
                        description="trainer/model/transformer.py PRESETS; the vocabulary comes from the tokenizer."),
        "steps": Param(DEMO["steps"], type="integer", minimum=1, title="Training steps"),
        "zero_stage": Param(2, type="integer", enum=[0, 1, 2, 3], title="ZeRO stage"),
        **{k: Param(1, type="integer", minimum=1, title=f"{title} parallel degree",
                    description="trainer/parallel: 1 is off; tp/sp/cp need zero_stage 0; impossible layouts exit 2.")
           for k, title in (("tp", "Tensor"), ("pp", "Pipeline"), ("sp", "Sequence (Ulysses)"),
                            ("cp", "Context (ring attention)"), ("ep", "Expert"))},
        "micro_batch_size": Param(8, type="integer", minimum=1, title="Micro batch per process"),
        "grad_accum": Param(1, type="integer", minimum=1, title="Gradient accumulation steps"),
        "lr": Param(0.0, type="number", minimum=0, title="Peak learning rate",
                    description="0: the preset's (trainer/train/zero.py PRESET_LR)."),
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
        "run_eval": Param(True, type="boolean", title="Evaluate",
                          description="Perplexity, task accuracy and speed of fp32/int8/int4 variants, then the report."),
        "eval_variants": Param(eval_orchestration.EVAL_VARIANTS, type="string", title="Evaluated variants"),
        "eval_max_windows": Param(DEMO["eval_max_windows"], type="integer", minimum=1,
                                  title="Perplexity windows (val shards)",
                                  description="Demo-sized (dags/demo.yaml); real-run default 64."),
        "eval_prune": Param("", type="string", title="Pruned variant (empty: none)",
                            description="wanda:0.5, magnitude:0.3, wanda:2:4 ...: trainer prune of the export, then evaluate it."),
        "eval_kv_policy": Param("", type="string", title="KV-cache policy (empty: none)",
                                description="snapkv:256, h2o:512, streaming:128:4 ...: trainer kv-eval of the export."),
        "run_posttrain": Param(True, type="boolean", title="Post-train (LoRA SFT, then GRPO)"),
        **defaults_as_params(orchestration.SFT_PARAMS, {"sft_lora_rank": "LoRA rank", "sft_lora_alpha": "LoRA alpha"}),
        **defaults_as_params(orchestration.GRPO_PARAMS, {"grpo_group_size": "GRPO group size (G)",
                                                  "grpo_beta": "KL coefficient beta (0: no reference model)"}),
        "run_extend": Param(False, type="boolean", title="Long-context extension (YaRN)"),
        **defaults_as_params(orchestration.EXTEND_PARAMS, {"extend_seq_len": "Extended context (0: 4x the base's)"}),
    },
) as dag:
    def task(task_id: str, macro: str, toggle: str | None = None, **kwargs) -> BashOperator:
        return BashOperator(task_id=task_id, bash_command=command(macro, toggle), env=TASK_ENV, append_env=True,
                            cwd=str(REPO), **kwargs)

    import_base = task("import_base", "import_base_command", "base_model")
    # none_failed: without a base, import_base is skipped and pretraining starts from scratch
    pretrain = task("pretrain", "pretrain_command", trigger_rule="none_failed")
    export = task("export", "export_command")
    evaluate = task("evaluate", "evaluate_command", "run_eval")
    # with a base: the released model and the post-trained policy on the same real data, beside the run's
    evaluate_base = task("evaluate_base", "evaluate_base_command", "base_model")
    evaluate_posttrained = task("evaluate_posttrained", "evaluate_posttrained_command", "run_posttrain")
    record_eval = task("record_eval", "record_eval_command", "run_eval")
    prune = task("prune", "prune_command", "eval_prune")
    evaluate_pruned = task("evaluate_pruned", "evaluate_pruned_command", "eval_prune")
    evaluate_kv = task("evaluate_kv", "evaluate_kv_command", "eval_kv_policy")
    # The report runs whatever else was skipped; it shows a missing evaluation as absent.
    report = task("report", "report_command", trigger_rule="none_failed")
    sft = task("sft", "sft_command", "run_posttrain")
    grpo = task("grpo", "grpo_command", "run_posttrain")
    grpo_export = task("grpo_export", "grpo_export_command", "run_posttrain")
    extend = task("extend", "extend_command", "run_extend")
    extend_export = task("extend_export", "extend_export_command", "run_extend")

    import_base >> pretrain >> export >> evaluate >> record_eval >> report
    import_base >> evaluate_base
    export >> prune >> evaluate_pruned
    export >> evaluate_kv
    pretrain >> sft >> grpo >> grpo_export >> evaluate_posttrained
    pretrain >> extend >> extend_export
