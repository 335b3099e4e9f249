"""trainer/train/extend.py: YaRN settings, and on a tiny model, better perplexity past the original context."""

import json
import math
import shlex

import pytest
import torch

from tests.trainer.tiny_runs import losses, tiny_config
from trainer.cli import main, parser_for
from trainer.config import ConfigError
from trainer.model.checkpoint import load_transformer
from trainer.orchestration import dag_extend_command, dag_extend_export_command, extend_command
from trainer.train import extend
from trainer.train.data import PackedWindows, TokenShards
from trainer.train.pretrain import train

ORIGINAL, TARGET = 16, 64


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: two threads on a loaded 2-core machine spin against each other
    yield
    torch.set_num_threads(threads)


def test_yarn_settings_follow_the_paper():
    s = extend.yarn_scaling(2048, 8192)
    assert s == {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048,
                 "beta_fast": 32, "beta_slow": 1, "attention_factor": pytest.approx(0.1 * math.log(4) + 1)}
    base = {"max_seq_len": 2048, "rope_scaling": None}
    assert extend.extended_model(base, 8192)["max_seq_len"] == 8192
    # extending an extended model scales from the original pretraining length again
    twice = extend.extended_model(extend.extended_model(base, 8192), 32768)["rope_scaling"]
    assert (twice["factor"], twice["original_max_position_embeddings"]) == (16.0, 2048)
    with pytest.raises(ConfigError, match="exceed"):
        extend.extended_model(base, 2048)
    with pytest.raises(ConfigError, match="linear"):
        extend.extended_model({"max_seq_len": 2048, "rope_scaling": {"rope_type": "linear", "factor": 2.0}}, 8192)


def test_extension_improves_perplexity_past_the_original_context(token_dir, tmp_path):
    base = tmp_path / "base"
    train(tiny_config(token_dir, base, "steps=100", f"model.max_seq_len={ORIGINAL}", "micro_batch_size=16",
                      "zero_stage=0", "eval_every=0", "save_every=0", "log_every=10"))
    cfg = extend.extension_config(base, str(token_dir), str(tmp_path / "ext"), TARGET,
                                  overrides=["steps=30", "eval_every=0", "save_every=0", "log_every=1"])
    assert cfg.model["rope_scaling"]["factor"] == TARGET / ORIGINAL and cfg.model["max_seq_len"] == TARGET
    assert cfg.micro_batch_size == 4 and cfg.zero_stage == 0  # same tokens per step; the base's settings
    assert extend.extension_config(base, str(token_dir), "o").model["max_seq_len"] == 4 * ORIGINAL  # default
    records = train(cfg)
    saved = json.loads((tmp_path / "ext" / "model_config.json").read_text())
    assert saved["rope_scaling"]["rope_type"] == "yarn"
    assert losses(records)[1] < 0.5 * math.log(384)  # started from the base's weights, not from scratch

    long_val = PackedWindows(TokenShards(token_dir).split("val"), TARGET)
    no_scaling = extend.perplexity(load_transformer(base).eval(), long_val)
    extended = extend.perplexity(load_transformer(tmp_path / "ext").eval(), long_val)
    assert extended < no_scaling


def test_extend_cli_refuses_a_missing_base(tmp_path, capsys):
    assert main(["extend", "--base", str(tmp_path), "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                        "--seq-len", "64"]) == 2
    assert "--base" in capsys.readouterr().err


@pytest.mark.parametrize("num_procs, launcher", [(1, ["python", "-m", "trainer", "extend"]),
                                                  (2, ["deepspeed", "--num_gpus", "2", "--module", "trainer", "extend"])])
def test_dag_extend_command_parses_with_the_extend_cli(num_procs, launcher):
    params = {"tokens_dir": "/d/r1/tokens", "data_root": "/d", "data_run_id": "", "out_dir": "/d/r1/pretrain/x",
              "num_procs": num_procs, "hostfile": ""}
    argv = shlex.split(dag_extend_command(params, None, "manual", "llm_pipeline_tokens"))
    assert argv[:len(launcher)] == launcher
    args = parser_for("extend").parse_args(argv[len(launcher):])
    assert (args.base, args.data, args.out, args.seq_len, args.steps, args.resume, args.set) == (
        "/d/r1/pretrain/x", "/d/r1/tokens", "/d/r1/pretrain/x/extend", 0, 400, True, [])  # 0: 4x the base's
    argv = shlex.split(dag_extend_command({**params, "extend_seq_len": 8192, "extend_lr": 2e-5}, None, "m", "a"))
    args = parser_for("extend").parse_args(argv[len(launcher):])
    assert (args.seq_len, args.set) == (8192, ["lr=2e-05"])
    assert shlex.split(dag_extend_export_command(params, None, "manual", "llm_pipeline_tokens"))[4:] == [
        "--checkpoint", "/d/r1/pretrain/x/extend", "--out", "/d/r1/pretrain/x/extend/hf"]
    assert "--config" in extend_command(base_dir="b", tokens_dir="t", out_dir="o", seq_len=64, steps=1,
                                        config="ext.yaml")
