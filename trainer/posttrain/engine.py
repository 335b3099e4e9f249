"""What LoRA SFT (trainer/posttrain/sft.py) and GRPO (trainer/posttrain/grpo.py) share with pretraining: loading a trained
model from a run directory, writing one back in the pretraining layout, and the DeepSpeed engine.

A run directory in the pretraining layout (what `trainer.model.export` and `--policy`/`--base` read):

    <run>/model_config.json, <run>/tokenizer.json
    <run>/checkpoints/latest -> stepNNNNNNNN
    <run>/checkpoints/stepNNNNNNNN/model_config.json + DeepSpeed's files
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from trainer.config import ConfigError
from trainer.model import export
from trainer.model.transformer import ModelConfig, Transformer
from trainer.train import checkpoint, zero
from trainer.train.pretrain import load_initial_weights


def model_config_of(run_dir: str | Path) -> ModelConfig:
    try:
        ckpt_dir, tag = export.locate(run_dir)
    except export.ExportError as e:
        raise ConfigError(str(e)) from e
    config_file = ckpt_dir / tag / "model_config.json"
    if not config_file.is_file():
        raise ConfigError(f"{config_file} missing: was {run_dir} written by trainer.train.pretrain, sft or grpo?")
    return ModelConfig(**json.loads(config_file.read_text()))


def load_model(run_dir: str | Path) -> Transformer:
    """The latest checkpoint of a run as a plain fp32 `Transformer` (any ZeRO stage, consolidated)."""
    model = Transformer(model_config_of(run_dir))
    load_initial_weights(model, str(run_dir))
    return model


def tokenizer_of(run_dir: str | Path) -> Path | None:
    return export.find_tokenizer(export.locate(run_dir)[0])


def save_model(model: Transformer, run_dir: str | Path, step: int, tokenizer_file: Path | None) -> Path:
    """Write `model`'s weights as `<run>/checkpoints/stepN`, the layout DeepSpeed writes for a ZeRO-0
    module (`mp_rank_00_model_states.pt` holding "module"), which trainer.model.export and load_model read."""
    run, ckpt_dir = Path(run_dir), Path(run_dir) / "checkpoints"
    tag_dir = ckpt_dir / checkpoint.tag_for(step)
    tag_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save({"module": state, "global_steps": step}, tag_dir / "mp_rank_00_model_states.pt")
    config = json.dumps(model.cfg.to_dict(), indent=2) + "\n"
    (tag_dir / "model_config.json").write_text(config)
    (run / "model_config.json").write_text(config)
    if tokenizer_file is not None and Path(tokenizer_file).resolve() != (run / "tokenizer.json").resolve():
        shutil.copyfile(tokenizer_file, run / "tokenizer.json")
    (ckpt_dir / "latest").write_text(checkpoint.tag_for(step))  # last: a crash before it leaves no "latest"
    return tag_dir


def deepspeed_engine(model: torch.nn.Module, cfg, world_size: int, precision: str, total_updates: int):
    """The engine as trainer/train/pretrain.py builds it (client AdamW over the trainable parameters, warmup +
    cosine, the ZeRO config from trainer/train/zero.py); `cfg` has TrainConfig's optimizer fields."""
    import deepspeed

    groups = zero.param_groups(model, cfg.weight_decay)  # frozen (requires_grad False) params stay out
    schedule = zero.WarmupCosine(cfg.warmup_steps, total_updates, cfg.min_lr_ratio)
    engine, _, _, scheduler = deepspeed.initialize(
        model=model,
        optimizer=zero.client_optimizer(cfg, groups),
        model_parameters=groups if cfg.optimizer != "torch_adamw" else None,
        lr_scheduler=lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, schedule),
        config=zero.deepspeed_config(cfg, world_size, precision),
    )
    return engine, scheduler
