"""Impossible parallel layouts are refused with every reason, before any process group exists."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.model.transformer import model_config
from trainer.parallel.mesh import Degrees, check, check_model

REPO = Path(__file__).resolve().parents[3]
TINY = dict(n_heads=4, n_kv_heads=2, n_layers=2, ffn_dim=192, n_experts=0, seq_len=32, zero_stage=1)


def test_possible_layouts_pass():
    assert check(Degrees(), 1, **TINY) == []
    assert check(Degrees(tp=2), 2, **TINY) == []
    assert check(Degrees(tp=2, cp=2), 4, **TINY) == []  # a 2-D mesh
    assert check(Degrees(pp=2), 4, **TINY) == []  # dp 2 takes the rest
    assert check(Degrees(ep=2), 2, **{**TINY, "n_experts": 4}) == []
    assert Degrees(tp=2).dp(8) == 4 and Degrees(tp=2, pp=2).describe(8) == "dp=2 pp=2 tp=2"


@pytest.mark.parametrize("degrees, world, changes, reason", [
    (Degrees(tp=2), 3, {}, "does not divide the world size 3"),
    (Degrees(tp=4), 4, {}, "n_kv_heads 2 is not divisible by tp·sp"),
    (Degrees(tp=8), 8, {}, "n_heads 4 is not divisible"),
    (Degrees(sp=4), 4, {}, "n_kv_heads 2 is not divisible by tp·sp = 1·4"),
    (Degrees(tp=2), 2, {"ffn_dim": 191}, "ffn_dim 191 is not divisible by tp 2"),
    (Degrees(pp=4), 4, {}, "n_layers 2 is not divisible by pp 4"),
    (Degrees(pp=2), 2, {"zero_stage": 3}, "zero_stage 3 with pp 2"),
    (Degrees(pp=2), 2, {"zero_stage": 2}, "zero_stage 2 with pp 2"),
    (Degrees(cp=2), 2, {"seq_len": 33}, "seq_len 33 is not divisible by sp·cp"),
    (Degrees(cp=2, sp=2), 4, {"seq_len": 34}, "uneven sequence splits are refused"),
    (Degrees(ep=2), 2, {}, "needs a mixture-of-experts model"),
    (Degrees(ep=4), 4, {"n_experts": 6}, "n_experts 6 is not divisible by ep 4"),
    (Degrees(tp=2, ep=2), 2, {"n_experts": 4}, "does not divide the data-parallel size 1"),
    (Degrees(tp=2), 2, {"zero_stage": 3}, "tp with zero_stage 3"),
    (Degrees(tp=0), 1, {}, "tp must be >= 1"),
])
def test_impossible_layouts_name_their_reason(degrees, world, changes, reason):
    reasons = check(degrees, world, **{**TINY, **changes})
    assert any(reason in r for r in reasons), reasons


def test_all_reasons_at_once():
    reasons = check(Degrees(tp=3, pp=4), 5, **TINY)
    assert len(reasons) >= 4  # world size, heads, kv heads, ffn, layers


def test_the_125m_preset_layouts():
    cfg = model_config("125m", {"vocab_size": 50304})
    assert check_model(Degrees(tp=4), 8, cfg, 2048, 1) == []
    assert check_model(Degrees(tp=8), 8, cfg, 2048, 1)  # 4 kv heads over 8 ranks


def test_train_exits_2_with_the_reason(token_dir, tmp_path):
    env = dict(os.environ, WORLD_SIZE="2", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "trainer", "train", "--data", str(token_dir), "--out",
                           str(tmp_path / "o"), "--preset", "tiny", "--set", "pp=2", "--set", "zero_stage=3"],
                          capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "zero_stage 3 with pp 2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_training_dag_params_become_sets():
    from trainer.orchestration import parallel_sets

    assert parallel_sets({"tp": 2, "cp": 1, "pp": 1}) == ["tp=2"]
    assert parallel_sets({}) == []  # a DAG run without the Params trains as before
