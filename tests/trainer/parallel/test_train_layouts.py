"""`trainer train --set tp=2` on 2 torchrun ranks equals the single-rank ZeRO-0 run (fp32 losses at every
step within 1e-4), and its checkpoint exports to the same HF model; layouts it cannot run exit 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.trainer.tiny_runs import losses, tiny_config
from trainer.train.metrics import read_metrics
from trainer.train.pretrain import train

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.slow, pytest.mark.skipif(torch.cuda.is_available(), reason="CPU/gloo scenarios")]
COMMON = ["steps=6", "zero_stage=0", "eval_every=0", "save_every=3", "seq_len=32"]


def _env(**extra) -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), DS_ACCELERATOR="cpu", **extra)


def test_tensor_parallel_train_equals_single_rank_and_exports(token_dir, tmp_path):
    ref = losses(train(tiny_config(token_dir, tmp_path / "ref", *COMMON)))
    cmd = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "trainer", "train",
           "--data", str(token_dir), "--out", str(tmp_path / "tp"), "--preset", "tiny"]
    for item in ["micro_batch_size=4", "warmup_steps=5", "log_every=1", "keep_checkpoints=0", *COMMON, "tp=2"]:
        cmd += ["--set", item]
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "dp=1 tp=2" in proc.stdout
    got = losses(read_metrics(tmp_path / "tp" / "metrics.jsonl"))
    assert sorted(got) == list(range(1, 7))
    assert max(abs(got[s] - ref[s]) for s in ref) <= 1e-4, (got, ref)

    from transformers import AutoModelForCausalLM

    from trainer.model.checkpoint import load_transformer
    from trainer.model.export import export

    hf = AutoModelForCausalLM.from_pretrained(export(tmp_path / "tp", tmp_path / "hf"), dtype=torch.float32)
    ours = load_transformer(tmp_path / "ref").eval()
    tokens = torch.randint(0, ours.cfg.vocab_size, (2, 32))
    with torch.no_grad():
        assert (hf.eval()(tokens).logits - ours(tokens)).abs().max().item() <= 1e-4


@pytest.mark.parametrize("sets, reason", [
    (["tp=2"], "set zero_stage=0"),
    (["pp=2", "zero_stage=1"], "not yet in `trainer train`"),
])
def test_layouts_train_cannot_run_exit_2(token_dir, tmp_path, sets, reason):
    cmd = [sys.executable, "-m", "trainer", "train", "--data", str(token_dir), "--out", str(tmp_path / "o"),
           "--preset", "tiny"]
    for item in sets:
        cmd += ["--set", item]
    proc = subprocess.run(cmd, cwd=REPO, env=_env(WORLD_SIZE="2"), capture_output=True, text=True)
    assert proc.returncode == 2 and reason in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
