"""Training configuration: dataclass defaults, then a YAML file, then `--set key=value` overrides.

    preset: tiny              # a model preset of trainer/model/transformer.py
    model: {n_layers: 4}      # overrides of that preset's ModelConfig fields
    steps: 200
    zero_stage: 2

`--set lr=1e-3` and `--set model.n_layers=4` address the same keys as the YAML. The loader is
typed_config's, shared with pipeline/: unknown keys and wrong types are refused with the valid names.
`EngineConfig` holds the optimizer and runtime fields every DeepSpeed run shares (pretraining,
trainer/posttrain/sft.py's SftConfig, trainer/posttrain/grpo.py's GrpoConfig); the defaults of
every dataclass here are the real-run defaults (the demo's sizes live in trainer/configs/).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typed_config import ConfigError, build, coerce, layered, parse_override, to_dict, unknown_names

__all__ = ["ConfigError", "EngineConfig", "TrainConfig", "build", "coerce_model_overrides", "load_config",
           "parse_override", "to_dict"]


@dataclass
class EngineConfig:
    """The DeepSpeed engine's optimizer, schedule, precision and runtime fields."""

    steps: int = 200
    # AdamW with Llama's settings (Touvron et al. 2023): betas (0.9, 0.95), wd 0.1, clip 1.0,
    # linear warmup then cosine decay to 10% of the peak. Post-training overrides these.
    lr: float = 0.0  # peak LR; 0: the preset's (trainer/train/zero.py PRESET_LR)
    min_lr_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0
    # "torch_adamw": torch's AdamW as DeepSpeed's client optimizer (no op build);
    # "deepspeed_adamw": DeepSpeed's own (FusedAdam on GPU; JIT-builds CPUAdam on CPU).
    optimizer: str = "torch_adamw"
    zero_stage: int = 2  # 0 (data parallel only), 1, 2 or 3
    precision: str = "auto"  # auto: bf16 on a GPU that has it, else fp32; or bf16 / fp32 / fp16
    seed: int = 1337
    log_every: int = 10


@dataclass
class TrainConfig(EngineConfig):
    preset: str = "tiny"
    model: dict[str, Any] = field(default_factory=dict)
    data_dir: str = ""  # the tokenize stage's output; --data overrides
    out_dir: str = ""  # checkpoints, metrics.jsonl, model_config.json; --out overrides
    init_from: str = ""  # a run or checkpoint dir whose weights start this run (continued pretraining)

    micro_batch_size: int = 8  # per rank
    grad_accum: int = 1
    seq_len: int = 0  # 0: the model's max_seq_len

    eval_every: int = 100  # 0: never
    eval_batches: int = 8  # val batches per rank per evaluation
    save_every: int = 100  # 0: only at the end
    keep_checkpoints: int = 2  # 0: keep all
    # Peak FLOP/s of one device for MFU; 0: look the device up (trainer/train/metrics.py), else no MFU.
    peak_flops: float = 0.0
    # Parallel degrees beyond ZeRO data parallelism (trainer/parallel/mesh.py): tensor, pipeline,
    # sequence (Ulysses), context (ring attention), expert. dp = world size / (tp·pp·sp·cp).
    tp: int = 1
    pp: int = 1
    sp: int = 1
    cp: int = 1
    ep: int = 1


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, cls: type = TrainConfig) -> Any:
    """`cls` (TrainConfig by default; SftConfig, GrpoConfig) from YAML defaults then `--set` overrides."""
    return build(cls, layered(path, overrides), "config")


def coerce_model_overrides(overrides: dict[str, Any], model_cls: type) -> dict[str, Any]:
    """Type-check `model:` overrides against ModelConfig's fields (the preset fills the rest)."""
    hints = typing.get_type_hints(model_cls)
    unknown = sorted(set(overrides) - set(hints))
    if unknown:
        raise unknown_names("config.model", "key", unknown, list(hints))
    return {k: coerce(v, hints[k], f"config.model.{k}") for k, v in overrides.items()}
