"""The DeepSpeed side of a training config: precision, ZeRO stage, optimizer and LR schedule."""

from __future__ import annotations

import math

import torch

from trainer.config import ConfigError, EngineConfig, TrainConfig

PRECISIONS = ("auto", "bf16", "fp32", "fp16")

# Peak learning rates: GPT-3's for its 125M and 1.3B models (Brown et al. 2020, table 2.1); the
# tiny preset (0.1M parameters) tolerates, and needs for a visible curve in 200 steps, 10x more.
PRESET_LR = {"tiny": 3e-3, "125m": 6e-4, "1b": 2e-4}


def peak_lr(cfg: TrainConfig) -> float:
    if cfg.lr < 0:
        raise ConfigError(f"lr must be >= 0, got {cfg.lr}")
    return cfg.lr or PRESET_LR.get(cfg.preset, 3e-4)


def resolve_precision(requested: str, on_gpu: bool) -> str:
    """bf16 where the hardware has it, fp32 otherwise; fp16 only on a GPU."""
    if requested not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {requested!r}")
    if requested == "auto":
        return "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "fp32"
    if requested == "fp16" and not on_gpu:
        raise ConfigError(
            "precision fp16 is not supported on CPU (DeepSpeed's CPU accelerator has no fp16 training); "
            "use precision=bf16 or precision=fp32"
        )
    if requested == "bf16" and on_gpu and not torch.cuda.is_bf16_supported():
        raise ConfigError("this GPU has no bf16; use precision=fp16 or precision=fp32")
    return requested


def deepspeed_config(cfg: EngineConfig, world_size: int, precision: str,
                     batch: tuple[int, int] | None = None) -> dict:
    """DeepSpeed's config; `batch` = (micro batch per rank, accumulation steps), by default the
    config's `micro_batch_size` and `grad_accum` (GRPO derives its own: GrpoConfig.batch)."""
    if cfg.zero_stage not in (0, 1, 2, 3):
        raise ConfigError(f"zero_stage must be 0, 1, 2 or 3, got {cfg.zero_stage}")
    micro, accum = batch or (cfg.micro_batch_size, cfg.grad_accum)
    ds = {
        "train_micro_batch_size_per_gpu": micro,
        "gradient_accumulation_steps": accum,
        "train_batch_size": micro * accum * world_size,
        "gradient_clipping": cfg.grad_clip,
        "zero_optimization": {"stage": cfg.zero_stage},
        "bf16": {"enabled": precision == "bf16"},
        "fp16": {"enabled": precision == "fp16", "initial_scale_power": 16},
        # torch's AdamW is not on ZeRO's list of tested optimizers; it works (tests/trainer).
        "zero_allow_untested_optimizer": True,
        "steps_per_print": 1 << 30,  # the trainer logs; keep DeepSpeed's own step lines quiet
        "wall_clock_breakdown": False,
    }
    if cfg.optimizer == "deepspeed_adamw":
        ds["optimizer"] = {"type": "AdamW", "params": {"lr": cfg.lr, "betas": [cfg.beta1, cfg.beta2],
                                                       "eps": cfg.eps, "weight_decay": cfg.weight_decay}}
    elif cfg.optimizer != "torch_adamw":
        raise ConfigError(f"optimizer must be torch_adamw or deepspeed_adamw, got {cfg.optimizer!r}")
    return ds


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Decay matrices (linear and embedding weights), not norm gains (as in nanoGPT and Llama)."""
    decay, no_decay = [], []
    for p in model.parameters():  # a tied weight appears once
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def client_optimizer(cfg: EngineConfig, groups: list[dict]) -> torch.optim.Optimizer | None:
    if cfg.optimizer != "torch_adamw":
        return None  # DeepSpeed builds its own from the "optimizer" section
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, foreach=True)


class WarmupCosine:
    """LR multiplier for optimizer step `it` (0-based): linear warmup, then cosine to `min_ratio`.
    A callable object, not a lambda, so LambdaLR's state_dict (and the checkpoint) carries it."""

    def __init__(self, warmup: int, total: int, min_ratio: float):
        self.warmup, self.total, self.min_ratio = warmup, total, min_ratio

    def __call__(self, it: int) -> float:
        if it < self.warmup:
            return (it + 1) / self.warmup
        progress = min(1.0, (it - self.warmup) / max(1, self.total - self.warmup))
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def lr_scheduler_factory(cfg: TrainConfig):
    schedule = WarmupCosine(cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio)
    return lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
