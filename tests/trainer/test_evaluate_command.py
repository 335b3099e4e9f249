"""trainer/eval_orchestration.py's evaluate commands: what the training DAG renders parses as trainer evaluate's CLI."""

import shlex

from trainer.cli import parser_for
from trainer.eval_orchestration import (
    EVAL_DATA,
    dag_evaluate_base_command,
    dag_evaluate_command,
    dag_evaluate_posttrained_command,
    evaluate_command,
)

PARAMS = {"tokens_dir": "", "data_root": "/data", "data_run_id": "r1", "out_dir": "", "preset": "tiny"}


def test_dag_evaluate_command_evaluates_the_export_beside_the_run():
    cmd = dag_evaluate_command(PARAMS, None, "manual__2026-11-27T09:00:00", "llm_pipeline_tokens")
    argv = shlex.split(cmd)
    assert argv[:4] == ["python", "-m", "trainer", "evaluate"]
    args = parser_for("evaluate").parse_args(argv[4:])
    run = "/data/r1/pretrain/manual__2026-11-27T09_00_00"
    assert (args.model, args.tokens, args.out) == (f"{run}/hf", "/data/r1/tokens", f"{run}/eval")
    assert args.variants == "fp32,int8,int4-rtn,int4-gptq" and args.draft is None
    # from scratch: the run's own tokenizer, so no real-text columns and the model's own window
    assert (args.seq_len, args.heldout_text, args.gsm8k) == (0, "", "")


def test_evaluate_command_options():
    cmd = evaluate_command("/m", "/t", "/e", variants="fp32,int8", max_windows=0, draft_dir="/d",
                           save_quantized=True)
    args = parser_for("evaluate").parse_args(shlex.split(cmd)[4:])
    assert (args.variants, args.max_windows, args.draft, args.save_quantized) == ("fp32,int8", 0, "/d", True)
    params = {**PARAMS, "out_dir": "/runs/x", "eval_variants": "int8", "eval_draft_dir": "/draft"}
    args = parser_for("evaluate").parse_args(shlex.split(dag_evaluate_command(params, None, "r", "a"))[4:])
    assert (args.model, args.variants, args.draft) == ("/runs/x/hf", "int8", "/draft")


def test_with_a_base_model_every_evaluation_uses_its_window_and_the_real_data():
    params = {**PARAMS, "out_dir": "/runs/x", "base_model": "smollm2-135m-instruct", "base_seq_len": 256,
              "base_gsm8k_items": 16}
    parse = parser_for("evaluate").parse_args
    continued = parse(shlex.split(dag_evaluate_command(params, None, "r", "a"))[4:])
    base = parse(shlex.split(dag_evaluate_base_command(params, None, "r", "a"))[4:])
    post = parse(shlex.split(dag_evaluate_posttrained_command(params, None, "r", "a"))[4:])
    assert (continued.model, base.model, post.model) == (
        "/runs/x/hf", "/data/models/smollm2-135m-instruct/hf", "/runs/x/grpo/hf")
    assert (continued.out, base.out, post.out) == ("/runs/x/eval", "/runs/x/eval-base", "/runs/x/grpo/eval")
    assert (base.variants, post.variants) == ("fp32", "fp32")
    for args in (continued, base, post):
        assert (args.seq_len, args.gsm8k_items) == (256, 16)
        assert args.heldout_text == str(EVAL_DATA / "heldout_text.jsonl.gz")
        assert args.gsm8k == str(EVAL_DATA / "gsm8k_test.jsonl.gz")
    assert (EVAL_DATA / "heldout_text.jsonl.gz").is_file() and (EVAL_DATA / "gsm8k_test.jsonl.gz").is_file()
