"""Checkpoints through DeepSpeed: model, optimizer (ZeRO partitions), LR scheduler, plus ours.

`<out>/checkpoints/step00000010/` holds DeepSpeed's files, `model_config.json` (what export needs)
and `rng_rank00000.pt` per rank; `client_state` carries the step and the sampler position.
DeepSpeed writes `<out>/checkpoints/latest` last, so a crash mid-save resumes from the previous tag.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from trainer.model.checkpoint import latest_tag, tag_for, tags
from trainer.train.data import EpochSampler


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save(engine, ckpt_dir: Path, step: int, sampler: EpochSampler, model_config: dict,
         rank: int, keep: int) -> Path:
    tag_dir = ckpt_dir / tag_for(step)
    tag_dir.mkdir(parents=True, exist_ok=True)
    torch.save(rng_state(), tag_dir / f"rng_rank{rank:05d}.pt")
    if rank == 0:
        (tag_dir / "model_config.json").write_text(json.dumps(model_config, indent=2) + "\n")
    engine.save_checkpoint(str(ckpt_dir), tag=tag_for(step),
                           client_state={"step": step, "sampler": sampler.state_dict()})
    if rank == 0 and keep > 0:
        for old in sorted(tags(ckpt_dir))[:-keep]:
            shutil.rmtree(ckpt_dir / tag_for(old), ignore_errors=True)
    return tag_dir


def load(engine, ckpt_dir: Path, sampler: EpochSampler, rank: int) -> int:
    """Restore the latest checkpoint into `engine` and `sampler`; the step it was taken at, or 0."""
    tag = latest_tag(ckpt_dir)
    if tag is None:
        return 0
    path, client_state = engine.load_checkpoint(str(ckpt_dir), tag=tag)
    if path is None:
        raise RuntimeError(f"DeepSpeed could not load checkpoint {ckpt_dir / tag}")
    sampler.load_state_dict(client_state["sampler"])
    rng_file = ckpt_dir / tag / f"rng_rank{rank:05d}.pt"
    if rng_file.is_file():  # absent when resuming on more ranks than saved: seeds stay as set
        set_rng_state(torch.load(rng_file, weights_only=False))
    return int(client_state["step"])
