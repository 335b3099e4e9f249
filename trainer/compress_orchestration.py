"""The training DAG's compression command lines: a pruned variant of the run's export and its evaluation,
and the export under a KV-cache budget. Plain strings, no heavy imports (the DAG imports this at parse time).

Params (empty: the task is skipped):
- `eval_prune`: `<method>:<sparsity>` or `<method>:2:4`, e.g. `wanda:0.5`, `magnitude:0.3`, `wanda:2:4`
  (trainer/quant/prune.py; Wanda calibrates on the run's train shards);
- `eval_kv_policy`: `<policy>:<budget>[:sinks[:window]]`, e.g. `snapkv:256` (trainer/infer/kv_eviction.py).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from trainer.base_orchestration import BASE_PARAMS
from trainer.eval_orchestration import EVAL_DATA, base_eval_args, evaluate_command
from trainer.orchestration import dag_dirs, launcher

COMPRESS_PARAMS = {"eval_prune": "", "eval_kv_policy": ""}


def prune_args(spec: str) -> list[str]:
    """`wanda:0.5` -> --method wanda --sparsity 0.5; `magnitude:2:4` -> --pattern 2:4. The CLI checks the values."""
    method, _, amount = spec.partition(":")
    if not method or not amount:
        raise ValueError(f"eval_prune {spec!r}: expected <magnitude|wanda>:<sparsity> or <method>:2:4")
    if amount == "2:4":
        return ["--method", method, "--pattern", "2:4"]
    return ["--method", method, "--sparsity", amount]


def dag_prune_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """`trainer prune` of the run's export (`<out_dir>/hf`) into `<out_dir>/pruned`."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    args = [*launcher("prune"), "--model", f"{out_dir}/hf", "--out", f"{out_dir}/pruned",
            *prune_args(params["eval_prune"]), "--tokens", tokens_dir]
    if params.get("base_model"):  # windows of the continued pretraining's length, as evaluation uses
        args += ["--calib-seq-len", str(params.get("base_seq_len", BASE_PARAMS["base_seq_len"]))]
    return shlex.join(args)


def dag_evaluate_pruned_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """The pruned folder, fp32, on the same data as the run's evaluation: `<out_dir>/eval-pruned`."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return evaluate_command(f"{out_dir}/pruned", tokens_dir, f"{out_dir}/eval-pruned", variants="fp32",
                            max_windows=int(params.get("eval_max_windows", 64)), extra=base_eval_args(params))


def dag_evaluate_kv_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """`trainer kv-eval` of the run's export under `eval_kv_policy` against its full cache: `<out_dir>/eval-kv`.
    With a base model: the bundled real held-out text and GSM8K test; else the run's val shards."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    args = [*launcher("kv-eval"), "--model", f"{out_dir}/hf", "--out", f"{out_dir}/eval-kv",
            "--policy", params["eval_kv_policy"]]
    if params.get("base_model"):
        args += ["--heldout-text", str(EVAL_DATA / "heldout_text.jsonl.gz"),
                 "--gsm8k", str(EVAL_DATA / "gsm8k_test.jsonl.gz"),
                 "--gsm8k-items", str(params.get("base_gsm8k_items", 100))]
    else:
        args += ["--tokens", tokens_dir]
    return shlex.join(args)
