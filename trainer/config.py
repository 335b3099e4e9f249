"""Training configuration: dataclass defaults, then a YAML file, then `--set key=value` overrides.

    preset: tiny              # a model preset of trainer/model/transformer.py
    model: {n_layers: 4}      # overrides of that preset's ModelConfig fields
    steps: 200
    zero_stage: 2

`--set lr=1e-3` and `--set model.n_layers=4` address the same keys as the YAML. The trainer keeps
its own loader (it must not import pipeline/), with the same rules: unknown keys are an error.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file or override the user can fix; the CLI prints it and exits with status 2."""


@dataclass
class TrainConfig:
    preset: str = "tiny"
    model: dict[str, Any] = field(default_factory=dict)
    data_dir: str = ""  # the tokenize stage's output; --data overrides
    out_dir: str = ""  # checkpoints, metrics.jsonl, model_config.json; --out overrides
    init_from: str = ""  # a run or checkpoint dir whose weights start this run (continued pretraining)

    steps: int = 200
    micro_batch_size: int = 8  # per rank
    grad_accum: int = 1
    seq_len: int = 0  # 0: the model's max_seq_len

    # AdamW with Llama's settings (Touvron et al. 2023): betas (0.9, 0.95), wd 0.1, clip 1.0,
    # linear warmup then cosine decay to 10% of the peak.
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
    eval_every: int = 100  # 0: never
    eval_batches: int = 8  # val batches per rank per evaluation
    save_every: int = 100  # 0: only at the end
    keep_checkpoints: int = 2  # 0: keep all
    # Peak FLOP/s of one device for MFU; 0: look the device up (trainer/train/metrics.py), else no MFU.
    peak_flops: float = 0.0


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not fit {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected null, got {value!r}")
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return value
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads "3e-4" as a string
            return float(value)
        except ValueError as e:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from e
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate dataclass `cls` from a mapping, rejecting unknown keys and coercing types."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(names)}")
    return cls(**{k: _coerce(v, hints[k], f"{where}.{k}") for k, v in values.items()})


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (['a', 'b'], value parsed as YAML so numbers, bools and lists keep their type)."""
    if "=" not in item:
        raise ConfigError(f"--set expects key=value, got {item!r}")
    key, raw = item.split("=", 1)
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ConfigError(f"--set has an empty key: {item!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, cls: type = TrainConfig) -> Any:
    """`cls` (TrainConfig by default; SftConfig, GrpoConfig) from YAML defaults then `--set` overrides."""
    raw: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            raw = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {p} is not valid YAML: {e}") from e
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {p} must hold a mapping at top level")
    for item in overrides or []:
        keys, value = parse_override(item)
        node = raw
        for part in keys[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"cannot set {'.'.join(keys)}: {part} is not a mapping")
        node[keys[-1]] = value
    return build(cls, raw, "config")


def coerce_model_overrides(overrides: dict[str, Any], model_cls: type) -> dict[str, Any]:
    """Type-check `model:` overrides against ModelConfig's fields (the preset fills the rest)."""
    hints = typing.get_type_hints(model_cls)
    unknown = sorted(set(overrides) - set(hints))
    if unknown:
        raise ConfigError(f"config.model: unknown key(s) {', '.join(unknown)}; known: {', '.join(hints)}")
    return {k: _coerce(v, hints[k], f"config.model.{k}") for k, v in overrides.items()}


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
