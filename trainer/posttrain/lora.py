"""LoRA adapters (Hu et al. 2021) on trainer/model/transformer.py's projections, through `peft`.

W x + (alpha / r) · B A x on each targeted `nn.Linear`: A (r × in) starts random, B (out × r) at zero,
so an adapted model starts exactly at its base. Only A and B train; `merge` folds B A into W, giving
a plain `Transformer` that exports like a pretrained one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from trainer.config import ConfigError, build
from trainer.model.transformer import Transformer

# Every projection of the Llama block: attention (wq, wk, wv, wo) and SwiGLU MLP (w1, w2, w3), as the
# QLoRA paper recommends (Dettmers et al. 2023: adapting all linear layers matches full fine-tuning).
ALL_PROJECTIONS = ["wq", "wk", "wv", "wo", "w1", "w2", "w3"]


@dataclass
class LoraSettings:
    rank: int = 16
    alpha: float = 32.0  # scale alpha / rank = 2, the common setting (e.g. QLoRA's r=64, alpha=16 is 0.25)
    dropout: float = 0.05  # QLoRA's for models up to 13B
    targets: list[str] = field(default_factory=lambda: list(ALL_PROJECTIONS))

    def __post_init__(self):
        if self.rank < 1:
            raise ConfigError(f"lora.rank must be >= 1, got {self.rank}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora.dropout must be in [0, 1), got {self.dropout}")
        unknown = sorted(set(self.targets) - set(ALL_PROJECTIONS))
        if not self.targets or unknown:
            raise ConfigError(f"lora.targets must be a non-empty subset of {ALL_PROJECTIONS}, got {self.targets}")


def settings(values: dict) -> LoraSettings:
    return build(LoraSettings, values, "config.lora")


def peft_config(s: LoraSettings):
    from peft import LoraConfig

    return LoraConfig(r=s.rank, lora_alpha=s.alpha, lora_dropout=s.dropout, target_modules=list(s.targets),
                      bias="none")


def apply(model: Transformer, s: LoraSettings):
    """The `peft` model around `model`: base weights frozen (requires_grad False), adapters trainable."""
    from peft import get_peft_model

    return get_peft_model(model, peft_config(s))


def adapter_state(peft_model) -> dict[str, torch.Tensor]:
    """The adapter weights alone, as fp32 CPU tensors (peft's naming, as `save_pretrained` writes them)."""
    from peft import get_peft_model_state_dict

    return {k: v.detach().float().cpu().clone() for k, v in get_peft_model_state_dict(peft_model).items()}


def with_adapter(base: Transformer, s: LoraSettings, state: dict[str, torch.Tensor]):
    """`base` wrapped with adapters holding `state` (e.g. trained under DeepSpeed in lower precision)."""
    from peft import set_peft_model_state_dict

    model = apply(base, s)
    result = set_peft_model_state_dict(model, state)
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    if unexpected:
        raise ValueError(f"adapter state has keys the model lacks: {unexpected[:5]}")
    return model


def save_adapter(peft_model, out: str | Path) -> Path:
    """peft's own format (`adapter_model.safetensors`, `adapter_config.json`)."""
    peft_model.save_pretrained(str(out))
    return Path(out)


def merge(peft_model) -> Transformer:
    """Fold each adapter into its base weight; the plain `Transformer` that remains."""
    return peft_model.merge_and_unload()


__all__ = ["ALL_PROJECTIONS", "LoraSettings", "settings", "apply", "adapter_state", "with_adapter",
           "save_adapter", "merge"]
