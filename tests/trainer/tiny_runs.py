"""Tiny training runs for the tests: their config, a rewound copy of a run, its loss curve."""

from __future__ import annotations

import shutil
from pathlib import Path

from trainer.config import TrainConfig, load_config
from trainer.model.checkpoint import tag_for


def tiny_config(token_dir: Path, out: Path, *overrides: str) -> TrainConfig:
    base = ["preset=tiny", "steps=20", "micro_batch_size=4", "warmup_steps=5", "log_every=1", "save_every=10",
            "keep_checkpoints=0", "eval_every=10", "eval_batches=2", f"data_dir={token_dir}", f"out_dir={out}"]
    return load_config(None, base + list(overrides))


def rewind(run: Path, copy: Path, step: int) -> Path:
    """A copy of `run` as it stood right after saving `step`: later checkpoints gone, latest -> step."""
    shutil.copytree(run, copy)
    for tag in (copy / "checkpoints").glob("step*"):
        if int(tag.name[4:]) > step:
            shutil.rmtree(tag)
    (copy / "checkpoints" / "latest").write_text(tag_for(step))
    return copy


def losses(records: list[dict]) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in records if "loss" in r}
