"""LoRA SFT: only adapters train, the response loss falls, the merged model equals base + adapter."""

import json

import pytest
import torch

from tests.trainer.chat_fixture import write_base_run, write_chat_tokens
from trainer.cli import main
from trainer.config import ConfigError, load_config
from trainer.model.checkpoint import load_transformer as load_model
from trainer.posttrain import lora, sft
from trainer.train import distributed

STEPS = 30


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matmuls: one thread is faster than two on a shared 2-core machine (no OpenMP spinning)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def chat_tokens(tmp_path_factory):
    return write_chat_tokens(tmp_path_factory.mktemp("chat_tokens"))


@pytest.fixture(scope="module")
def base_run(tmp_path_factory, chat_tokens):
    return write_base_run(tmp_path_factory.mktemp("base"), chat_tokens)


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory, chat_tokens, base_run):
    out = tmp_path_factory.mktemp("sft")
    cfg = load_config(None, [f"steps={STEPS}", "micro_batch_size=8", "lr=3e-3", "warmup_steps=2", "log_every=1",
                             "eval_every=0", "eval_batches=2", "lora.rank=4", "lora.alpha=8", "lora.dropout=0.0",
                             f"base={base_run}", f"data_dir={chat_tokens}", f"out_dir={out}"], cls=sft.SftConfig)
    before = {k: v.clone() for k, v in load_model(base_run).state_dict().items()}
    run = sft._train(sft.plan(cfg), distributed.setup())
    return out, run, before, cfg


def test_only_adapter_parameters_receive_gradients(chat_tokens, base_run):
    model = lora.apply(load_model(base_run), lora.LoraSettings(rank=4, dropout=0.0))
    shards = sft.sft_shards(chat_tokens)
    x, y, m = sft.masked_split(shards, "train", 32).batch(range(4))
    sft.masked_cross_entropy(model(x), y, m).backward()
    for name, p in model.named_parameters():
        if "lora_" in name:
            assert p.requires_grad and p.grad is not None, name
        else:
            assert not p.requires_grad and p.grad is None, name
    # B starts at zero, so A's first gradient is zero; B's is not.
    assert any(p.grad.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)
    targeted = {n.split(".base_layer")[0].rsplit(".", 1)[-1] for n, _ in model.named_parameters() if "base_layer" in n}
    assert targeted == set(lora.ALL_PROJECTIONS)


def test_training_changes_adapters_only_and_response_loss_drops(sft_run):
    _, run, before, _ = sft_run
    base_after = {n.replace("base_model.model.", "").replace(".base_layer", ""): p
                  for n, p in run.model.named_parameters() if "lora_" not in n}
    assert set(base_after) <= set(before)
    for name, p in base_after.items():
        assert not p.requires_grad
        assert torch.equal(p.detach().cpu(), before[name]), f"{name} changed"
    assert all(p.detach().abs().sum() > 0 for n, p in run.model.named_parameters() if "lora_B" in n)
    losses = [r["loss"] for r in run.records if "loss" in r]
    assert len(losses) == STEPS
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.7 * first, (first, last)


def test_merged_model_equals_base_plus_adapter(sft_run, base_run, chat_tokens):
    out, _, _, cfg = sft_run
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert (out / "tokenizer.json").is_file()
    assert json.loads((out / "model_config.json").read_text())["dim"] == 32
    merged = load_model(out).eval()  # through `trainer export`'s checkpoint reader

    from peft import PeftModel

    adapted = PeftModel.from_pretrained(load_model(base_run), str(out / "adapter")).eval()
    x = torch.randint(0, merged.cfg.vocab_size, (3, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want, got = adapted(x), merged(x)
        plain = load_model(base_run).eval()(x)
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()
    assert not torch.allclose(got, plain, atol=1e-3)  # the adapter did change the model


def test_bad_settings_are_config_errors(base_run, chat_tokens, tmp_path):
    with pytest.raises(ConfigError, match="lora.targets"):
        lora.settings({"targets": ["wq", "q_proj"]})
    cfg = load_config(None, [f"base={base_run}", f"data_dir={chat_tokens}", f"out_dir={tmp_path}",
                             "seq_len=128"], cls=sft.SftConfig)
    with pytest.raises(ConfigError, match="max_seq_len"):
        sft.plan(cfg)
    assert main(["sft", "--base", str(tmp_path / "none"), "--data", str(chat_tokens), "--out", str(tmp_path)]) == 2


def test_grpo_cli_starts_from_the_sft_run_and_resumes(sft_run, chat_tokens, tmp_path):
    """The chain's last link on the tokenize stage's rl.jsonl and tokenizer: `--policy <sft out>`."""
    from trainer.train.metrics import read_metrics

    out, *_ = sft_run
    args = ["--policy", str(out), "--data", str(chat_tokens), "--out", str(tmp_path), "--set", "group_size=4",
            "--set", "prompts_per_step=2", "--set", "max_new_tokens=8", "--set", "lr=1e-3", "--set", "beta=0"]
    assert main(["grpo", *args, "--steps", "2"]) == 0
    assert main(["grpo", *args, "--steps", "2"]) == 2  # checkpoints there and no --resume: refused
    assert main(["grpo", *args, "--steps", "3", "--resume"]) == 0
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3]
    assert all(r["kl"] is None and 0 <= r["reward_mean"] <= 1 and 0 < r["completion_len"] <= 8 for r in records)
    policy = load_model(tmp_path)  # what `trainer export` reads
    assert policy.cfg.to_dict() == load_model(out).cfg.to_dict()
    assert (tmp_path / "tokenizer.json").is_file()
