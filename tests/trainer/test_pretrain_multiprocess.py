"""Two CPU processes (gloo): ZeRO 1/2/3 under torchrun, and the CLI under the deepspeed launcher with a
resume in a fresh torchrun launch and an export of the two-rank ZeRO-3 partitions.

Each launch costs more than its training, so scenarios share launches. DeepSpeed's shared-memory
all-reduce op is JIT-built on the first two-rank launch (~40 s once; cached per checkout under
build/torch_extensions, see conftest.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.trainer.tiny_runs import losses, rewind
from trainer.train.metrics import read_metrics

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.slow, pytest.mark.skipif(torch.cuda.is_available(), reason="CPU/gloo scenarios")]


def run(cmd: list[str], timeout: int = 600) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), DS_ACCELERATOR="cpu")
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def test_two_ranks_each_zero_stage_trains_and_resumes(token_dir, tmp_path):
    run([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "tests/trainer/two_rank_stages.py",
         "--data", str(token_dir), "--root", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    for stage in ("1", "2", "3"):
        full = {int(k): v for k, v in results[stage]["full"].items()}
        resumed = {int(k): v for k, v in results[stage]["resumed"].items()}
        assert sum(full[s] for s in (10, 11, 12)) < sum(full[s] for s in (1, 2, 3)) - 1.0, (stage, full)
        assert resumed == {s: full[s] for s in range(7, 13)}, stage
        assert results[stage]["val"][1] < results[stage]["val"][0]


def test_deepspeed_launcher_resume_in_a_new_launch_and_export(token_dir, tmp_path):
    args = ["--data", str(token_dir), "--preset", "tiny", "--steps", "12", "--set", "zero_stage=3",
            "--set", "micro_batch_size=4", "--set", "log_every=1", "--set", "save_every=6",
            "--set", "keep_checkpoints=0", "--set", "eval_every=0"]
    out = tmp_path / "run"
    log = run([str(BIN / "deepspeed"), "--num_gpus", "2", "--module", "trainer", "train", "--out", str(out), *args])
    assert "ZeRO-3, fp32, 2 rank(s) on cpu" in log
    full = losses(read_metrics(out / "metrics.jsonl"))
    assert sorted(full) == list(range(1, 13)) and full[12] < full[1] - 0.5

    # a fresh launch (torchrun this time) resumes the deepspeed-launched run's step-6 checkpoint
    resumed_dir = rewind(out, tmp_path / "resumed", 6)
    log = run([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "trainer", "train",
               "--out", str(resumed_dir), "--resume", *args])
    assert "resumed at step 6" in log
    assert losses(read_metrics(resumed_dir / "metrics.jsonl")) == full

    # export consolidates both ranks' ZeRO-3 partitions
    tag_dir = out / "checkpoints" / "step00000012"
    assert len(list(tag_dir.glob("zero_pp_rank_*_optim_states.pt"))) == 2
    hf_dir = tmp_path / "hf"
    run([sys.executable, "-m", "trainer", "export", "--checkpoint", str(out), "--out", str(hf_dir)])
    from transformers import AutoModelForCausalLM

    from trainer.model.checkpoint import consolidated_state_dict
    from trainer.model.transformer import ModelConfig, Transformer

    cfg = ModelConfig(**json.loads((tag_dir / "model_config.json").read_text()))
    ours = Transformer(cfg)
    ours.load_state_dict(consolidated_state_dict(out / "checkpoints", "step00000012"))
    hf = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    tokens = torch.randint(0, cfg.vocab_size, (2, 64))
    with torch.no_grad():
        assert (hf.eval()(tokens).logits - ours.eval()(tokens)).abs().max().item() <= 1e-4
