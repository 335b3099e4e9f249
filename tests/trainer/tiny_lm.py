"""Tiny language models for the inference tests, trained in-process with plain AdamW (no DeepSpeed).

A few dozen steps on the token fixture's grammar make the logits peaked enough that greedy
decoding has no near-ties, so "equal token for token" compares real decisions, not float noise.
Trained once per (shards, shape) and cached for the session.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import torch

from trainer.model.transformer import ModelConfig, Transformer, cross_entropy
from trainer.train.data import PackedWindows, TokenShards


@cache
def _trained_state(token_dir: str, dim: int, n_layers: int, steps: int, seed: int) -> tuple[ModelConfig, dict]:
    shards = TokenShards(token_dir)
    cfg = ModelConfig(vocab_size=shards.vocab_size, dim=dim, n_layers=n_layers, n_heads=4, n_kv_heads=2,
                      max_seq_len=64)
    threads = torch.get_num_threads()
    # One thread: at dim 64 the matmuls are too small to split, and on a shared 2-core machine two
    # threads spin against other processes (measured 8x slower under load).
    torch.set_num_threads(1)
    try:
        return cfg, _train(cfg, shards, steps, seed)
    finally:
        torch.set_num_threads(threads)


def _train(cfg: ModelConfig, shards: TokenShards, steps: int, seed: int) -> dict:
    torch.manual_seed(seed)
    model = Transformer(cfg)
    windows = PackedWindows(shards.split("train"), 32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(windows), (16,), generator=gen).tolist()
        x, y = windows.batch(idx)
        loss = cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def trained_model(token_dir: Path, dim: int = 64, n_layers: int = 2, steps: int = 60, seed: int = 0) -> Transformer:
    """A fresh copy (safe to quantize in place) of the cached tiny model, in eval mode."""
    cfg, state = _trained_state(str(token_dir), dim, n_layers, steps, seed)
    model = Transformer(cfg)
    model.load_state_dict(state)
    return model.eval()


@pytest.fixture(autouse=False)
def one_thread():
    """Tiny models run faster on one thread (no split of 64-wide matmuls, no spinning against other
    processes on a shared machine); restored afterwards for the rest of the suite."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_run_dir(model: Transformer, run: Path, tokenizer: Path, step: int = 60) -> Path:
    """`run` laid out as trainer/train/pretrain.py leaves a ZeRO-0 run: checkpoints/latest, one mp_rank_00 file
    and model_config.json per tag, tokenizer.json beside (what trainer/model/export.py's reader takes)."""
    import json
    import shutil

    tag = run / "checkpoints" / f"step{step:08d}"
    tag.mkdir(parents=True)
    torch.save({"module": model.state_dict()}, tag / "mp_rank_00_model_states.pt")
    (tag / "model_config.json").write_text(json.dumps(model.cfg.to_dict()))
    (run / "checkpoints" / "latest").write_text(tag.name)
    shutil.copyfile(tokenizer, run / "tokenizer.json")
    return run
