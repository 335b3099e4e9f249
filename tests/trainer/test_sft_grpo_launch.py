"""The training DAG's sft and grpo command lines parse with the trainers' own CLIs and configs."""

import shlex

import pytest

from trainer.cli import parser_for
from trainer.orchestration import (
    GRPO_PARAMS,
    SFT_PARAMS,
    dag_grpo_command,
    dag_grpo_export_command,
    dag_sft_command,
)
from trainer.posttrain import grpo, sft

ASSET = "llm_pipeline_tokens"
PARAMS = {"tokens_dir": "/d/r1/tokens", "data_root": "/d", "data_run_id": "", "out_dir": "/d/r1/pretrain/run1",
          "num_procs": 1, "hostfile": ""}


def test_dag_sft_command_runs_lora_sft_on_the_pretrain_run():
    argv = shlex.split(dag_sft_command({**PARAMS, "sft_steps": 7, "sft_lora_rank": 4}, {}, "run1", ASSET))
    assert argv[:4] == ["python", "-m", "trainer", "sft"]
    cfg = sft.config_from_args(parser_for("sft").parse_args(argv[4:]))
    assert (cfg.base, cfg.data_dir, cfg.out_dir) == ("/d/r1/pretrain/run1", "/d/r1/tokens", "/d/r1/pretrain/run1/sft")
    assert (cfg.steps, cfg.lora["rank"], cfg.lora["alpha"], cfg.lr) == (7, 4, SFT_PARAMS["sft_lora_alpha"], 2e-4)


@pytest.mark.parametrize("num_procs, hostfile, launcher", [
    (1, "", ["python", "-m", "trainer", "grpo"]),
    (2, "", ["deepspeed", "--num_gpus", "2", "--module", "trainer", "grpo"]),
    (2, "/etc/ds.hosts", ["deepspeed", "--hostfile", "/etc/ds.hosts", "--module", "trainer", "grpo"]),
])
def test_dag_grpo_command_starts_from_the_sft_run_and_resumes(num_procs, hostfile, launcher):
    params = {**PARAMS, "num_procs": num_procs, "hostfile": hostfile, "grpo_beta": 0.0}
    argv = shlex.split(dag_grpo_command(params, {}, "run1", ASSET))
    assert argv[: len(launcher)] == launcher
    args = parser_for("grpo").parse_args(argv[len(launcher):])
    cfg = grpo.config_from_args(args)
    assert args.resume
    assert (cfg.policy, cfg.out_dir) == ("/d/r1/pretrain/run1/sft", "/d/r1/pretrain/run1/grpo")
    assert (cfg.beta, cfg.group_size, cfg.steps) == (0.0, GRPO_PARAMS["grpo_group_size"], GRPO_PARAMS["grpo_steps"])
    assert shlex.split(dag_grpo_export_command(params, {}, "run1", ASSET))[-4:] == [
        "--checkpoint", "/d/r1/pretrain/run1/grpo", "--out", "/d/r1/pretrain/run1/grpo/hf"]
