"""Config loading, the frozen CLI surface, and errors a user gets before any process group starts."""

import pytest
import torch

from trainer.cli import main, parser_for
from trainer.config import ConfigError, load_config
from trainer.train.pretrain import plan
from trainer.train.zero import WarmupCosine, deepspeed_config, resolve_precision


def test_cli_surface_is_frozen():
    """Scripts, the DAG and the docs call these flags; changing them is a breaking change."""
    options = {o for a in parser_for("train")._actions for o in a.option_strings}
    assert options == {"-h", "--help", "--config", "--set", "--data", "--out", "--resume", "--preset", "--steps",
                       "--local_rank", "--local-rank"}


def test_yaml_then_overrides(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("preset: tiny\nsteps: 50\nmodel: {n_layers: 3}\nlr: 1.0e-3\n")
    cfg = load_config(f, ["steps=7", "lr=3e-4", "model.dim=96", "zero_stage=3"])
    assert (cfg.steps, cfg.lr, cfg.zero_stage) == (7, 3e-4, 3)  # "3e-4" is a str in YAML 1.1: coerced
    assert cfg.model == {"n_layers": 3, "dim": 96}


@pytest.mark.parametrize("override, message", [
    ("stepz=3", "unknown key"), ("steps=many", "expected int"), ("noequals", "key=value"),
])
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_plan_validates_before_launching(token_dir, tmp_path):
    ok = plan(load_config(None, [f"data_dir={token_dir}", f"out_dir={tmp_path}"]))
    assert ok.model.vocab_size == 384 and ok.seq_len == 64 and ok.cfg.lr == 3e-3  # tiny's preset LR
    for bad, message in [("model.n_layerz=2", "unknown key"), ("seq_len=4096", "max_seq_len"),
                         ("zero_stage=4", "zero_stage"), ("preset=7b", "preset"), ("precision=fp8", "precision")]:
        with pytest.raises(ConfigError, match=message):
            plan(load_config(None, [f"data_dir={token_dir}", f"out_dir={tmp_path}", bad]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 is refused on CPU only")
def test_fp16_on_cpu_is_a_clear_error(token_dir, tmp_path, capsys):
    rc = main(["train", "--data", str(token_dir), "--out", str(tmp_path / "run"), "--set", "precision=fp16"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "fp16 is not supported on CPU" in err and "bf16" in err and "Traceback" not in err
    assert resolve_precision("auto", on_gpu=False) == "fp32"


def test_refuses_to_overwrite_checkpoints_without_resume(token_dir, tmp_path, capsys):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "latest").write_text("step00000010")
    assert main(["train", "--data", str(token_dir), "--out", str(tmp_path)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_missing_tokens_dir_is_a_usage_error(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "run")]) == 2
    assert "index.json" in capsys.readouterr().err


def test_too_little_data_for_one_window_is_a_usage_error(tmp_path, capsys):
    from tests.trainer.token_fixture import write_token_shards

    tokens = write_token_shards(tmp_path / "tokens", n_docs=12, vocab_size=300)
    assert main(["train", "--data", str(tokens), "--out", str(tmp_path / "run"), "--set", "model.max_seq_len=4096",
                 "--set", "seq_len=4096"]) == 2
    assert "no window" in capsys.readouterr().err


def test_deepspeed_config_follows_the_training_config():
    cfg = load_config(None, ["micro_batch_size=4", "grad_accum=3", "zero_stage=3", "grad_clip=0.5"])
    ds = deepspeed_config(cfg, world_size=2, precision="bf16")
    assert ds["train_batch_size"] == 24 and ds["gradient_accumulation_steps"] == 3
    assert ds["zero_optimization"]["stage"] == 3 and ds["gradient_clipping"] == 0.5
    assert ds["bf16"]["enabled"] and not ds["fp16"]["enabled"] and "optimizer" not in ds


def test_mfu_needs_a_known_or_configured_peak():
    from trainer.train.metrics import Throughput, device_peak_flops

    assert device_peak_flops(torch.device("cpu"), "fp32") is None
    assert device_peak_flops(torch.device("cpu"), "fp32", configured=1e12) == 1e12
    meter = Throughput(flops_per_token=1e6, peak_flops=1e12, world_size=2)
    meter.add(1000)
    tps, mfu = meter.report()
    assert mfu == pytest.approx(tps * 1e6 / 2e12)


def test_warmup_then_cosine_to_the_floor():
    s = WarmupCosine(warmup=10, total=110, min_ratio=0.1)
    assert s(0) == pytest.approx(0.1) and s(9) == pytest.approx(1.0)
    assert s(60) == pytest.approx(0.55) and s(110) == pytest.approx(0.1) and s(500) == pytest.approx(0.1)
