"""Reading and writing a run in the pretraining layout: the one reader of `model_config.json`.

    <run>/model_config.json, <run>/tokenizer.json
    <run>/checkpoints/latest                       -> stepNNNNNNNN (written last)
    <run>/checkpoints/stepNNNNNNNN/model_config.json + DeepSpeed's files (any ZeRO stage)

`trainer train`, `extend`, `sft` and `grpo` write it (trainer/train/checkpoint.py saves DeepSpeed's
files while training); `export`, `--base`, `--policy`, `init_from` and inference read it here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from trainer.model.transformer import ModelConfig, Transformer
from typed_config import ConfigError

TAG_RE = re.compile(r"^step(\d+)$")


class CheckpointError(ConfigError):
    """No checkpoint where the user pointed, or one that does not fit the model: one line, exit 2."""


def tag_for(step: int) -> str:
    return f"step{step:08d}"


def tags(ckpt_dir: Path) -> list[int]:
    if not ckpt_dir.is_dir():
        return []
    return [int(m.group(1)) for p in ckpt_dir.iterdir() if p.is_dir() and (m := TAG_RE.match(p.name))]


def latest_tag(ckpt_dir: Path) -> str | None:
    latest = ckpt_dir / "latest"
    return latest.read_text().strip() if latest.is_file() else None


def locate(checkpoint: str | Path) -> tuple[Path, str]:
    """(checkpoints dir, tag) from a run dir, a checkpoints dir or one tag's dir."""
    path = Path(checkpoint)
    for ckpt_dir in (path, path / "checkpoints"):
        if (tag := latest_tag(ckpt_dir)) is not None:
            return ckpt_dir, tag
    if (path / "model_config.json").is_file() and path.parent.is_dir():
        return path.parent, path.name
    raise CheckpointError(f"no DeepSpeed checkpoint at {path} (looked for latest, checkpoints/latest, model_config.json)")


def model_config_fields(checkpoint: str | Path) -> dict[str, Any]:
    """The ModelConfig fields saved with the checkpoint `locate` finds."""
    ckpt_dir, tag = locate(checkpoint)
    config_file = ckpt_dir / tag / "model_config.json"
    if not config_file.is_file():
        raise CheckpointError(f"{config_file} missing: was {checkpoint} written by trainer train, sft or grpo?")
    return json.loads(config_file.read_text())


def model_config_of(checkpoint: str | Path, **overrides: Any) -> ModelConfig:
    return ModelConfig(**{**model_config_fields(checkpoint), **overrides})


def consolidated_state_dict(ckpt_dir: Path, tag: str) -> dict[str, torch.Tensor]:
    """fp32 weights gathered from every rank's ZeRO partition (or the plain module for stage 0)."""
    tag_dir = ckpt_dir / tag
    if any(tag_dir.glob("*optim_states.pt")) and any(tag_dir.glob("zero_pp_rank_*")):
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

        return get_fp32_state_dict_from_zero_checkpoint(str(ckpt_dir), tag=tag)
    states = torch.load(tag_dir / "mp_rank_00_model_states.pt", map_location="cpu", weights_only=False)
    return {k: v.float() for k, v in states["module"].items()}


def load_state(model: Transformer, state: dict[str, torch.Tensor], source: str) -> Transformer:
    """`state` into `model`; only a tied head may be absent (it is the embedding table)."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not (k == "output.weight" and model.cfg.tie_embeddings)]
    if missing or unexpected:
        raise CheckpointError(f"{source}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    return model


def load_weights(model: Transformer, checkpoint: str | Path) -> Transformer:
    """Another run's latest weights into `model`, consolidated from any ZeRO stage."""
    return load_state(model, consolidated_state_dict(*locate(checkpoint)), str(checkpoint))


def load_transformer(checkpoint: str | Path, **model_overrides: Any) -> Transformer:
    """The latest checkpoint of a run as a plain fp32 `Transformer` in train mode, optionally with
    changed ModelConfig fields (e.g. RoPE scaling)."""
    return load_weights(Transformer(model_config_of(checkpoint, **model_overrides)), checkpoint)


def find_tokenizer(ckpt_dir: Path) -> Path | None:
    for candidate in (ckpt_dir.parent / "tokenizer.json", ckpt_dir / "tokenizer.json"):
        if candidate.is_file():
            return candidate
    return None


def tokenizer_of(run_dir: str | Path) -> Path | None:
    return find_tokenizer(locate(run_dir)[0])


def save_transformer(model: Transformer, run_dir: str | Path, step: int, tokenizer_file: Path | None) -> Path:
    """Write `model`'s weights as `<run>/checkpoints/stepN`, the layout DeepSpeed writes for a ZeRO-0
    module (`mp_rank_00_model_states.pt` holding "module"), which every reader above takes."""
    run, ckpt_dir = Path(run_dir), Path(run_dir) / "checkpoints"
    tag_dir = ckpt_dir / tag_for(step)
    tag_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save({"module": state, "global_steps": step}, tag_dir / "mp_rank_00_model_states.pt")
    config = json.dumps(model.cfg.to_dict(), indent=2) + "\n"
    (tag_dir / "model_config.json").write_text(config)
    (run / "model_config.json").write_text(config)
    if tokenizer_file is not None and Path(tokenizer_file).resolve() != (run / "tokenizer.json").resolve():
        shutil.copyfile(tokenizer_file, run / "tokenizer.json")
    (ckpt_dir / "latest").write_text(tag_for(step))  # last: a crash before it leaves no "latest"
    return tag_dir
