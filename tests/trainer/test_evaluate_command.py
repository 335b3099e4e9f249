"""trainer/orchestration.py's evaluate command: what the training DAG renders parses as trainer evaluate's CLI."""

import shlex

from trainer.cli import parser_for
from trainer.orchestration import dag_evaluate_command, evaluate_command

PARAMS = {"tokens_dir": "", "data_root": "/data", "data_run_id": "r1", "out_dir": "", "preset": "tiny"}


def test_dag_evaluate_command_evaluates_the_export_beside_the_run():
    cmd = dag_evaluate_command(PARAMS, None, "manual__2026-11-27T09:00:00", "llm_pipeline_tokens")
    argv = shlex.split(cmd)
    assert argv[:4] == ["python", "-m", "trainer", "evaluate"]
    args = parser_for("evaluate").parse_args(argv[4:])
    run = "/data/r1/pretrain/manual__2026-11-27T09_00_00"
    assert (args.model, args.tokens, args.out) == (f"{run}/hf", "/data/r1/tokens", f"{run}/eval")
    assert args.variants == "fp32,int8,int4-rtn,int4-gptq" and args.draft is None


def test_evaluate_command_options():
    cmd = evaluate_command("/m", "/t", "/e", variants="fp32,int8", max_windows=0, draft_dir="/d",
                           save_quantized=True)
    args = parser_for("evaluate").parse_args(shlex.split(cmd)[4:])
    assert (args.variants, args.max_windows, args.draft, args.save_quantized) == ("fp32,int8", 0, "/d", True)
    params = {**PARAMS, "out_dir": "/runs/x", "eval_variants": "int8", "eval_draft_dir": "/draft"}
    args = parser_for("evaluate").parse_args(shlex.split(dag_evaluate_command(params, None, "r", "a"))[4:])
    assert (args.model, args.variants, args.draft) == ("/runs/x/hf", "int8", "/draft")
