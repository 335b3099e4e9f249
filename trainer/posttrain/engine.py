"""The DeepSpeed engine of LoRA SFT (trainer/posttrain/sft.py) and GRPO (trainer/posttrain/grpo.py),
built as pretraining builds its own; they read and write runs with trainer/model/checkpoint.py."""

from __future__ import annotations

import torch

from trainer.config import EngineConfig
from trainer.train import zero


def deepspeed_engine(model: torch.nn.Module, cfg: EngineConfig, world_size: int, precision: str, total_updates: int,
                     batch: tuple[int, int] | None = None):
    """The engine as trainer/train/pretrain.py builds it (client AdamW over the trainable parameters, warmup +
    cosine, the ZeRO config from trainer/train/zero.py); `batch` as zero.deepspeed_config's."""
    import deepspeed

    groups = zero.param_groups(model, cfg.weight_decay)  # frozen (requires_grad False) params stay out
    schedule = zero.WarmupCosine(cfg.warmup_steps, total_updates, cfg.min_lr_ratio)
    engine, _, _, scheduler = deepspeed.initialize(
        model=model,
        optimizer=zero.client_optimizer(cfg, groups),
        model_parameters=groups if cfg.optimizer != "torch_adamw" else None,
        lr_scheduler=lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, schedule),
        config=zero.deepspeed_config(cfg, world_size, precision, batch),
    )
    return engine, scheduler
