"""The training DAG's evaluation command lines: the run's export with its quantized variants, and, with a
base model, the imported base and the post-trained policy on the same real held-out text and GSM8K test
items, so the report compares base -> continued -> post-trained. Plain strings, no heavy imports (the DAG
imports this at parse time, beside trainer/orchestration.py).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trainer.base_orchestration import BASE_PARAMS, base_model_dir
from trainer.orchestration import dag_dirs, grpo_out_dir, launcher

EVAL_VARIANTS = "fp32,int8,int4-rtn,int4-gptq"
# The bundled real evaluation data (pipeline/resources/eval/README.md says where each comes from); trainer/
# reads them as files, never imports pipeline/.
EVAL_DATA = Path(__file__).resolve().parent.parent / "pipeline" / "resources" / "eval"
# Defaults of the optional DAG params for a base model's evaluation (real-run sizes; dags/demo.yaml's are smaller).
BASE_EVAL_PARAMS = {"base_gsm8k_items": 100, "base_heldout_max_tokens": 4096}


def evaluate_command(model_dir: str, tokens_dir: str, eval_dir: str, variants: str = EVAL_VARIANTS,
                     max_windows: int = 64, draft_dir: str = "", save_quantized: bool = False,
                     extra: Iterable[str] = ()) -> str:
    """`trainer evaluate` over an exported (or run, or quantized) model: <eval_dir>/report.json, .md, .png."""
    args = [*launcher("evaluate"), "--model", model_dir, "--tokens", tokens_dir, "--out", eval_dir,
            "--variants", variants, "--max-windows", str(max_windows)]
    if draft_dir:
        args += ["--draft", draft_dir]
    if save_quantized:
        args.append("--save-quantized")  # <eval_dir>/quantized/<variant>/, loadable by trainer.infer.load_model
    return shlex.join([*args, *extra])


def base_eval_args(params: Mapping) -> list[str]:
    """With a base model: windows of the continued pretraining's length (a base's own max_seq_len, 8192 for
    SmolLM2, is longer than any val window of a small run), perplexity on the bundled real held-out text
    and strict GSM8K test exact match. [] without a base (a model trained from scratch has the run's own
    tokenizer, in which those texts mean nothing comparable)."""
    if not params.get("base_model"):
        return []
    p = {k: params.get(k, default) for k, default in (BASE_PARAMS | BASE_EVAL_PARAMS).items()}
    return ["--seq-len", str(p["base_seq_len"]),
            "--heldout-text", str(EVAL_DATA / "heldout_text.jsonl.gz"),
            "--heldout-max-tokens", str(p["base_heldout_max_tokens"]),
            "--gsm8k", str(EVAL_DATA / "gsm8k_test.jsonl.gz"), "--gsm8k-items", str(p["base_gsm8k_items"])]


def dag_evaluate_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """Evaluates the HF export of this run (`<out_dir>/hf`, written by the export task) into `<out_dir>/eval`.
    Optional params: eval_variants, eval_max_windows, eval_draft_dir, eval_save_quantized, BASE_EVAL_PARAMS."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return evaluate_command(f"{out_dir}/hf", tokens_dir, f"{out_dir}/eval",
                            variants=params.get("eval_variants") or EVAL_VARIANTS,
                            max_windows=int(params.get("eval_max_windows", 64)),
                            draft_dir=params.get("eval_draft_dir", ""),
                            save_quantized=bool(params.get("eval_save_quantized", False)),
                            extra=base_eval_args(params))


def dag_evaluate_base_command(params: Mapping, triggering_asset_events: Any, run_id: str, asset_name: str) -> str:
    """The imported base as it was released (its HF export under <data_root>/models/<name>/hf), fp32, on the
    same data as the continued model: `<out_dir>/eval-base` (rendered only with a base_model)."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    base = base_model_dir(params["base_model"], params["data_root"])
    return evaluate_command(f"{base}/hf", tokens_dir, f"{out_dir}/eval-base", variants="fp32",
                            max_windows=int(params.get("eval_max_windows", 64)), extra=base_eval_args(params))


def dag_evaluate_posttrained_command(params: Mapping, triggering_asset_events: Any, run_id: str,
                                     asset_name: str) -> str:
    """The post-trained policy (`<out_dir>/grpo/hf`, after LoRA SFT and GRPO), fp32: `<out_dir>/grpo/eval`."""
    tokens_dir, out_dir = dag_dirs(params, triggering_asset_events, run_id, asset_name)
    return evaluate_command(f"{grpo_out_dir(out_dir)}/hf", tokens_dir, f"{grpo_out_dir(out_dir)}/eval",
                            variants="fp32", max_windows=int(params.get("eval_max_windows", 64)),
                            extra=base_eval_args(params))
