"""An MoE model through trainer train (ZeRO-2): router stats in metrics.jsonl, then a Mixtral export."""

import json

import pytest
import torch

from tests.trainer.tiny_runs import losses, tiny_config
from trainer.model import moe
from trainer.model.checkpoint import load_transformer
from trainer.model.export import export
from trainer.train.metrics import read_metrics
from trainer.train.pretrain import train

N_EXPERTS = 4


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: two threads on a loaded 2-core machine spin against each other
    yield
    torch.set_num_threads(threads)


def test_moe_run_logs_router_stats_and_exports_as_mixtral(token_dir, tmp_path):
    run = tmp_path / "run"
    records = train(tiny_config(token_dir, run, "steps=12", "zero_stage=2", "eval_every=12", "save_every=0",
                                f"model.n_experts={N_EXPERTS}", "model.moe_layers=[1]",
                                "model.moe_capacity_factor=1.0"))
    logged = [r for r in read_metrics(run / "metrics.jsonl") if "loss" in r]
    assert len(logged) == 12 and logged == [r for r in records if "loss" in r]
    for r in logged:
        (load,) = r["moe_load"]  # one MoE layer
        assert len(load) == N_EXPERTS and sum(load) == pytest.approx(1.0, abs=1e-3)
        assert r["moe_max_load"] == pytest.approx(max(load) * N_EXPERTS, rel=1e-3)
        assert r["aux_loss"] >= 1.0 - 1e-6  # Switch loss: 1 when balanced, more otherwise
        assert r["moe_dropped"] >= r["moe_tokens_dropped"] >= 0
    # capacity 1.0 leaves no slack: a busier-than-average expert drops assignments
    assert sum(r["moe_dropped"] for r in logged) > 0
    curve = losses(records)
    assert curve[12] < curve[1]
    assert any("val_loss" in r for r in records)

    hf_dir = export(run, tmp_path / "hf")  # consolidates the ZeRO-2 partitions
    transformers = pytest.importorskip("transformers")
    hf = transformers.AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    assert type(hf).__name__ == "MixtralForCausalLM"
    ours = load_transformer(run).eval()
    assert [type(b.feed_forward) for b in ours.layers][1] is moe.MoE
    tokens = torch.randint(0, json.loads((token_dir / "index.json").read_text())["vocab_size"], (2, 40))
    with torch.no_grad():
        assert (hf(tokens).logits - ours(tokens)).abs().max().item() <= 1e-4
