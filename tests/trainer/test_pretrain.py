"""DeepSpeed ZeRO 1/2/3 on one CPU process, in this process: loss falls, a resumed run repeats the
uninterrupted run's losses step for step, and the ZeRO-3 checkpoint exports to transformers.

Each stage trains once for 20 steps (checkpoints at 10 and 20); "resume" restarts from the step-10
checkpoint in a copy of that run and must log the same losses for steps 11-20. Two-process runs
(torchrun and the deepspeed launcher) are in test_pretrain_multiprocess.py.
"""

import json
from pathlib import Path

import pytest
import torch

from tests.trainer.tiny_runs import losses, rewind, tiny_config
from trainer.model.checkpoint import tag_for
from trainer.train.metrics import read_metrics
from trainer.train.pretrain import train

STAGES = (1, 2, 3)


@pytest.fixture(scope="module")
def runs(token_dir, tmp_path_factory):
    """stage -> (the uninterrupted run's dir and records, the resumed run's records)."""
    root = tmp_path_factory.mktemp("pretrain")
    out = {}
    for stage in STAGES:
        full = train(tiny_config(token_dir, root / f"z{stage}", f"zero_stage={stage}"))
        resumed_dir = rewind(root / f"z{stage}", root / f"z{stage}-resumed", 10)
        resumed = train(tiny_config(token_dir, resumed_dir, f"zero_stage={stage}"), resume=True)
        out[stage] = (root / f"z{stage}", full, resumed)
    return out


@pytest.mark.parametrize("stage", STAGES)
def test_zero_stage_reduces_loss(runs, stage):
    _, full, _ = runs[stage]
    curve = losses(full)
    assert sorted(curve) == list(range(1, 21))
    first, last = sum(curve[s] for s in range(1, 4)) / 3, sum(curve[s] for s in range(18, 21)) / 3
    assert last < first - 0.5, curve
    val = [r["val_loss"] for r in full if "val_loss" in r]
    assert len(val) == 2 and val[1] < val[0]
    assert all(r["tokens_per_s"] > 0 for r in full if "loss" in r)


@pytest.mark.parametrize("stage", STAGES)
def test_resume_repeats_the_uninterrupted_losses(runs, stage):
    run_dir, full, resumed = runs[stage]
    expected = {s: v for s, v in losses(full).items() if s > 10}
    assert losses(resumed) == expected  # bit-identical on CPU in fp32
    # metrics.jsonl of the resumed run reads as if it had never stopped
    strip = [{k: v for k, v in r.items() if k not in ("tokens_per_s", "mfu")}
             for r in read_metrics(run_dir / "metrics.jsonl")]
    strip_resumed = [{k: v for k, v in r.items() if k not in ("tokens_per_s", "mfu")}
                     for r in read_metrics(Path(str(run_dir) + "-resumed") / "metrics.jsonl")]
    assert strip_resumed == strip


def test_stages_agree_with_each_other(runs):
    """ZeRO partitions state, not math: the first steps' losses agree across stages."""
    first = [losses(runs[s][1])[3] for s in STAGES]
    assert max(first) - min(first) < 1e-4


def test_zero3_checkpoint_exports_to_transformers(runs, tmp_path):
    from transformers import AutoModelForCausalLM

    from trainer.model.checkpoint import consolidated_state_dict, locate
    from trainer.model.export import export
    from trainer.model.transformer import ModelConfig, Transformer

    run_dir = runs[3][0]
    hf_dir = export(run_dir, tmp_path / "hf")
    ckpt_dir, tag = locate(run_dir)
    assert tag == tag_for(20)
    cfg = ModelConfig(**json.loads((ckpt_dir / tag / "model_config.json").read_text()))
    ours = Transformer(cfg)
    ours.load_state_dict(consolidated_state_dict(ckpt_dir, tag))
    hf = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    tokens = torch.randint(0, cfg.vocab_size, (2, 64))
    with torch.no_grad():
        assert (hf.eval()(tokens).logits - ours.eval()(tokens)).abs().max().item() <= 1e-4
    assert (hf_dir / "tokenizer.json").is_file() and (hf_dir / "model.safetensors").is_file()


def test_grad_accum_matches_a_bigger_micro_batch(runs, token_dir, tmp_path):
    """2 micro-batches of 2 see the same windows as 1 of 4 (trainer/train/data.py rank_slice), so the
    losses agree up to float rounding of the accumulated gradients."""
    accum = train(tiny_config(token_dir, tmp_path / "accum", "zero_stage=2", "micro_batch_size=2", "grad_accum=2",
                              "steps=8", "eval_every=0", "save_every=0"))
    reference = losses(runs[2][1])
    # same LR schedule only up to the warmup (steps differ), so compare the first steps
    for step, value in losses(accum).items():
        if step <= 5:
            assert abs(value - reference[step]) < 1e-4, step


@pytest.mark.skipif(torch.cuda.is_available(), reason="CPU bf16 path")
def test_bf16_trains_on_cpu_and_prunes_old_checkpoints(token_dir, tmp_path):
    records = train(tiny_config(token_dir, tmp_path / "bf16", "precision=bf16", "zero_stage=2", "steps=10",
                                "save_every=3", "keep_checkpoints=2", "eval_every=0"))
    curve = losses(records)
    assert curve[10] < curve[1] - 0.3
    assert sorted(p.name for p in (tmp_path / "bf16" / "checkpoints").glob("step*")) == \
        [tag_for(9), tag_for(10)]
