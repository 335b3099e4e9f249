"""Plain helpers the training DAG uses to name things and build its command lines; no Airflow
imports (trainer/ never imports it) and nothing heavy (the DAG imports this at parse time).
The counterpart of pipeline/orchestration.py.

    python -m trainer train ...                                  # 1 process
    deepspeed --num_gpus N --module trainer train ...            # N processes on this host
    deepspeed --hostfile FILE --module trainer train ...         # every slot the hostfile lists

The DAG renders these into BashOperators; the same strings work in a shell or a cluster job script.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trainer.base_orchestration import base_sets, import_base_command


def _events(triggering_asset_events: Any, asset_name: str) -> Iterable[Any]:
    """Asset events from Airflow's `triggering_asset_events` (a mapping of asset -> events)."""
    if not triggering_asset_events:
        return []
    found = []
    for asset, events in triggering_asset_events.items():
        if getattr(asset, "name", asset) == asset_name:
            found.extend(events or [])
    return found


def newest_event_extra(triggering_asset_events: Any, asset_name: str, key: str) -> str | None:
    """extra[key] of the newest triggering event of `asset_name` that carries it."""
    for event in reversed(list(_events(triggering_asset_events, asset_name))):
        extra = getattr(event, "extra", None) or (event.get("extra") if isinstance(event, Mapping) else None)
        if extra and extra.get(key):
            return str(extra[key])
    return None


def resolve_tokens_dir(tokens_dir: str, triggering_asset_events: Any, asset_name: str,
                       data_root: str, data_run_id: str) -> str:
    """`tokens_dir` when given; else the newest triggering event's extra["tokens_dir"];
    else `<data_root>/<data_run_id>/tokens` (the pipeline's dataset layout)."""
    if tokens_dir:
        return tokens_dir
    from_event = newest_event_extra(triggering_asset_events, asset_name, "tokens_dir")
    if from_event:
        return from_event
    if not data_run_id:
        raise ValueError("no tokens_dir: set the tokens_dir or data_run_id param, or trigger from the data DAG")
    return str(Path(data_root) / data_run_id / "tokens")


def launcher(command: str, num_procs: int = 1, hostfile: str = "") -> list[str]:
    """`python -m trainer <command>`, or under the deepspeed launcher on N local or hostfile ranks."""
    if hostfile:
        return ["deepspeed", "--hostfile", hostfile, "--module", "trainer", command]
    if num_procs > 1:
        return ["deepspeed", "--num_gpus", str(num_procs), "--module", "trainer", command]
    return ["python", "-m", "trainer", command]


def default_out_dir(tokens_dir: str, run_id: str) -> str:
    """`<data_root>/<data run>/pretrain/<airflow run id>`: beside the tokens, one folder per DAG run."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id or "manual")
    return str(Path(tokens_dir).parent / "pretrain" / safe)


def pretrain_command(*, tokens_dir: str, out_dir: str, preset: str, steps: int, zero_stage: int,
                     micro_batch_size: int, grad_accum: int, lr: float, num_procs: int,
                     hostfile: str = "", config: str = "", extra_sets: Iterable[str] = (),
                     resume: bool = True) -> str:
    args = launcher("train", num_procs, hostfile)
    if config:
        args += ["--config", config]
    args += ["--data", tokens_dir, "--out", out_dir, "--preset", preset, "--steps", str(steps)]
    sets = {"zero_stage": zero_stage, "micro_batch_size": micro_batch_size, "grad_accum": grad_accum, "lr": lr}
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    for item in extra_sets:
        args += ["--set", item]
    if resume:
        args.append("--resume")  # a retried task continues from its last checkpoint
    return shlex.join(args)


def export_command(out_dir: str, hf_dir: str) -> str:
    return shlex.join([*launcher("export"), "--checkpoint", out_dir, "--out", hf_dir])


# The training DAG's Jinja macros: (params, triggering_asset_events, run_id) -> command line.

def dag_dirs(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> tuple[str, str]:
    tokens_dir = resolve_tokens_dir(params["tokens_dir"], triggering_asset_events, asset_name,
                                    params["data_root"], params["data_run_id"])
    return tokens_dir, params["out_dir"] or default_out_dir(tokens_dir, run_id)


def dag_pretrain_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return pretrain_command(
        tokens_dir=tokens_dir, out_dir=out_dir, preset=params["preset"], steps=params["steps"],
        zero_stage=params["zero_stage"], micro_batch_size=params["micro_batch_size"],
        grad_accum=params["grad_accum"], lr=params["lr"], num_procs=params["num_procs"],
        hostfile=params.get("hostfile", ""), config=params.get("config_file", ""),
        extra_sets=base_sets(params) + parallel_sets(params))  # after --set lr=...: a base's LR wins


PARALLEL_DEGREES = ("tp", "pp", "sp", "cp", "ep")  # trainer/parallel/mesh.py; 1: off


def parallel_sets(params: Mapping) -> list[str]:
    """`--set`s for the parallel degrees above 1 (a Param left at 1 adds nothing)."""
    return [f"{k}={params[k]}" for k in PARALLEL_DEGREES if int(params.get(k, 1)) != 1]


def dag_export_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    _, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return export_command(out_dir, f"{out_dir}/hf")


# Long-context extension (trainer/train/extend.py): an optional branch after pretrain, inside its run.

# Defaults of the optional DAG params dag_extend_command reads (Param(default=...) in the DAG).
# seq_len 0: 4x the base's context; lr 0: 1/10 of the base run's peak (trainer/train/extend.py).
EXTEND_PARAMS = {"extend_seq_len": 0, "extend_steps": 400, "extend_lr": 0.0, "extend_config_file": ""}


def extend_out_dir(out_dir: str) -> str:
    return f"{out_dir}/extend"


def extend_command(*, base_dir: str, tokens_dir: str, out_dir: str, seq_len: int, steps: int, lr: float = 0.0,
                   num_procs: int = 1, hostfile: str = "", config: str = "", extra_sets: Iterable[str] = (),
                   resume: bool = True) -> str:
    """YaRN continued pretraining of `base_dir` at `seq_len` (0: 4x its context); a retry resumes."""
    args = launcher("extend", num_procs, hostfile)
    if config:
        args += ["--config", config]
    args += ["--base", base_dir, "--data", tokens_dir, "--out", out_dir, "--steps", str(steps)]
    if seq_len:
        args += ["--seq-len", str(seq_len)]
    for item in ([f"lr={lr}"] if lr else []) + list(extra_sets):
        args += ["--set", item]
    if resume:
        args.append("--resume")
    return shlex.join(args)


def dag_extend_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """The pretrain task's run extended into `<out_dir>/extend`. Params: EXTEND_PARAMS, num_procs, hostfile."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    p = {k: _param(params, EXTEND_PARAMS, k) for k in EXTEND_PARAMS}
    return extend_command(base_dir=out_dir, tokens_dir=tokens_dir, out_dir=extend_out_dir(out_dir),
                          seq_len=p["extend_seq_len"], steps=p["extend_steps"], lr=p["extend_lr"],
                          num_procs=params.get("num_procs", 1), hostfile=params.get("hostfile", ""),
                          config=p["extend_config_file"])


def dag_extend_export_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """The extended model as a Hugging Face folder: `<out_dir>/extend/hf`."""
    _, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return export_command(extend_out_dir(out_dir), f"{extend_out_dir(out_dir)}/hf")


# Post-training (trainer/posttrain/sft.py, trainer/posttrain/grpo.py): pretrain -> sft -> grpo, each inside the pretraining run.

def sft_out_dir(out_dir: str) -> str:
    return f"{out_dir}/sft"


def grpo_out_dir(out_dir: str) -> str:
    return f"{out_dir}/grpo"


def sft_command(*, base_dir: str, tokens_dir: str, out_dir: str, steps: int, lora_rank: int, lora_alpha: float,
                lr: float, micro_batch_size: int, num_procs: int = 1, hostfile: str = "", config: str = "",
                extra_sets: Iterable[str] = ()) -> str:
    """LoRA SFT of `base_dir` on `<tokens_dir>/sft`. No --resume: a short run a retry simply redoes
    (same seed, same result; the outputs are overwritten)."""
    args = launcher("sft", num_procs, hostfile)
    if config:
        args += ["--config", config]
    args += ["--base", base_dir, "--data", tokens_dir, "--out", out_dir, "--steps", str(steps)]
    for item in (f"lora.rank={lora_rank}", f"lora.alpha={lora_alpha}", f"lr={lr}",
                 f"micro_batch_size={micro_batch_size}", *extra_sets):
        args += ["--set", item]
    return shlex.join(args)


def grpo_command(*, policy_dir: str, tokens_dir: str, out_dir: str, steps: int, group_size: int,
                 prompts_per_step: int, max_new_tokens: int, beta: float, lr: float, num_procs: int = 1,
                 hostfile: str = "", config: str = "", extra_sets: Iterable[str] = (), resume: bool = True) -> str:
    """GRPO from `policy_dir` on `<tokens_dir>/rl.jsonl`; a retried task resumes from its last checkpoint."""
    args = launcher("grpo", num_procs, hostfile)
    if config:
        args += ["--config", config]
    args += ["--policy", policy_dir, "--data", tokens_dir, "--out", out_dir, "--steps", str(steps)]
    for item in (f"group_size={group_size}", f"prompts_per_step={prompts_per_step}",
                 f"max_new_tokens={max_new_tokens}", f"beta={beta}", f"lr={lr}", *extra_sets):
        args += ["--set", item]
    if resume:
        args.append("--resume")
    return shlex.join(args)


# Defaults of the optional DAG params the macros below read: the real-run defaults of SftConfig and
# GrpoConfig (the DAG's Params start from the demo's sizes, dags/demo.yaml).
SFT_PARAMS = {"sft_steps": 200, "sft_lora_rank": 16, "sft_lora_alpha": 32.0, "sft_lr": 2e-4,
              "sft_micro_batch_size": 8, "sft_config_file": ""}
GRPO_PARAMS = {"grpo_steps": 100, "grpo_group_size": 8, "grpo_prompts_per_step": 8, "grpo_max_new_tokens": 64,
               "grpo_beta": 0.04, "grpo_lr": 1e-6, "grpo_config_file": ""}


def _param(params: Mapping, defaults: dict, key: str) -> Any:
    return params.get(key, defaults[key])


def dag_sft_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """SFT of the pretrain task's run into `<out_dir>/sft`. Params: SFT_PARAMS, plus num_procs, hostfile."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    p = {k: _param(params, SFT_PARAMS, k) for k in SFT_PARAMS}
    return sft_command(base_dir=out_dir, tokens_dir=tokens_dir, out_dir=sft_out_dir(out_dir), steps=p["sft_steps"],
                       lora_rank=p["sft_lora_rank"], lora_alpha=p["sft_lora_alpha"], lr=p["sft_lr"],
                       micro_batch_size=p["sft_micro_batch_size"], num_procs=params.get("num_procs", 1),
                       hostfile=params.get("hostfile", ""), config=p["sft_config_file"])


def dag_grpo_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """GRPO from `<out_dir>/sft` into `<out_dir>/grpo`. Params: GRPO_PARAMS, plus num_procs, hostfile."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    p = {k: _param(params, GRPO_PARAMS, k) for k in GRPO_PARAMS}
    return grpo_command(policy_dir=sft_out_dir(out_dir), tokens_dir=tokens_dir, out_dir=grpo_out_dir(out_dir),
                        steps=p["grpo_steps"], group_size=p["grpo_group_size"],
                        prompts_per_step=p["grpo_prompts_per_step"], max_new_tokens=p["grpo_max_new_tokens"],
                        beta=p["grpo_beta"], lr=p["grpo_lr"], num_procs=params.get("num_procs", 1),
                        hostfile=params.get("hostfile", ""), config=p["grpo_config_file"])


def dag_grpo_export_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """The RL-tuned policy as a Hugging Face folder: `<out_dir>/grpo/hf`."""
    _, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return export_command(grpo_out_dir(out_dir), f"{grpo_out_dir(out_dir)}/hf")


# The run report (pipeline/report) and the evaluation's catalog record, after evaluate.

def data_run_id(params: Mapping, triggering_asset_events: Any, asset_name: str, tokens_dir: str) -> str:
    """The data run the model was trained on: the data_run_id Param; else the triggering event's
    extra["run_id"]; else the folder above the tokens (`<data_root>/<run>/tokens`)."""
    if params.get("data_run_id"):
        return str(params["data_run_id"])
    return newest_event_extra(triggering_asset_events, asset_name, "run_id") or Path(tokens_dir).parent.name


def dag_record_eval_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """`python -m pipeline catalog record-eval`: the evaluate task's report.json into the catalog."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    run = data_run_id(params, triggering_asset_events, asset_name, tokens_dir)
    return shlex.join(["python", "-m", "pipeline", "catalog", "record-eval", "--run", run,
                       "--report", f"{out_dir}/eval/report.json", "--data-root", params["data_root"]])


def dag_report_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """`python -m pipeline report` of the data run with this training run's loss curve and evaluation:
    `<out_dir>/report.html` (an evaluation the DAG skipped shows as absent, not as an error)."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    run = data_run_id(params, triggering_asset_events, asset_name, tokens_dir)
    return shlex.join(["python", "-m", "pipeline", "report", "--run", run, "--data-root", params["data_root"],
                       "--training-dir", out_dir, "--eval-report", f"{out_dir}/eval/report.json",
                       "--out", f"{out_dir}/report.html"])


def dag_import_base_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """The import of the base_model Param (rendered only when it is set)."""
    return import_base_command(params["base_model"], params["data_root"])
