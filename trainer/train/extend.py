"""Long-context extension: continued pretraining at a longer sequence length with YaRN RoPE scaling.

    python -m trainer extend --base <pretrain run dir> --data <run>/tokens --out <dir> --seq-len 8192
    python -m trainer extend --base ... --data ... --out ...          # --seq-len: 4x the base's context
    deepspeed --num_gpus 8 --module trainer extend --base ... --data ... --out ... --seq-len 8192

YaRN (Peng et al. 2023, arXiv:2309.00071): scale factor s = target / original length; frequencies
interpolated by s below `beta_slow`=1 rotation over the original context, kept above `beta_fast`=32,
ramped between (the paper's Llama values); attention logits tempered by mscale 0.1·ln(s) + 1 (its
eq. 22, folded into cos/sin as HF does). The paper extends Llama 2 with 400 steps at LR 2e-5, about
1/15 of its pretraining peak: the default here is 1/10 of the base run's peak with 20 warmup steps.

The run is `trainer train`'s loop: this module only builds the TrainConfig (the base run's settings and
its model with `max_seq_len` = target and `rope_scaling` = YaRN, weights from `init_from`). Windows of
the target length are packed from the tokens directory, whose train shards carry the synth stage's
long_pretrain documents (related documents concatenated to ~8k tokens) beside the rest.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import torch

from trainer import command
from trainer.config import ConfigError, TrainConfig, build
from trainer.model import rope
from trainer.model.checkpoint import CheckpointError, locate, model_config_fields
from trainer.model.transformer import Transformer
from trainer.train import pretrain
from trainer.train.data import ShardError
from trainer.train.zero import PRESET_LR
from typed_config import parse_override, read_yaml, set_path

BETA_FAST, BETA_SLOW = 32, 1  # YaRN's Llama settings (paper section 3.2 / appendix)
LR_FRACTION = 0.1  # of the base run's peak LR (YaRN: 2e-5 against Llama 2's 3e-4)
WARMUP_STEPS = 20  # YaRN's linear warmup
DEFAULT_FACTOR = 4  # without --seq-len (Llama 2 4k -> 16k is YaRN's smallest extension; s = 16, 32 too)


def yarn_scaling(original: int, target: int) -> dict:
    factor = target / original
    return {"rope_type": "yarn", "factor": factor, "original_max_position_embeddings": original,
            "beta_fast": BETA_FAST, "beta_slow": BETA_SLOW, "attention_factor": 0.1 * math.log(factor) + 1.0}


def base_model_config(base: str | Path) -> tuple[dict, Path]:
    """The base checkpoint's ModelConfig fields and its run directory."""
    try:
        return model_config_fields(base), locate(base)[0].parent
    except CheckpointError as e:
        raise ConfigError(f"--base: {e}") from e


def extended_model(base_model: dict, target: int) -> dict:
    """The base model at `target` tokens with YaRN from its own (original) pretraining length."""
    scaling = base_model.get("rope_scaling")
    kind = rope.rope_type(scaling)
    if kind not in ("default", "yarn"):
        raise ConfigError(f"the base model uses {kind} RoPE scaling; extending it with YaRN is not defined")
    original = rope.original_max_len(scaling, base_model["max_seq_len"])
    if target <= original:
        raise ConfigError(f"--seq-len {target} must exceed the original context {original}")
    return {**base_model, "max_seq_len": target, "rope_scaling": yarn_scaling(original, target)}


def extension_config(base: str | Path, data: str, out: str, seq_len: int = 0, config_file: str | None = None,
                     overrides: list[str] | None = None) -> TrainConfig:
    """The base run's train settings, then extension defaults, then `--config` and `--set`.
    `seq_len` 0: DEFAULT_FACTOR x the base's original context."""
    base_model, base_run = base_model_config(base)
    seq_len = seq_len or DEFAULT_FACTOR * rope.original_max_len(base_model.get("rope_scaling"),
                                                                base_model["max_seq_len"])
    raw: dict[str, Any] = {}
    base_train = base_run / "train_config.json"
    if base_train.is_file():
        raw = {k: v for k, v in json.loads(base_train.read_text()).items()
               if k not in ("model", "data_dir", "out_dir", "init_from", "seq_len", "steps")}
    # Keep tokens per step: the same batch of windows at target length would be target/original x larger.
    mb = max(1, int(raw.get("micro_batch_size", 8) * base_model["max_seq_len"] // seq_len))
    raw.update(model=extended_model(base_model, seq_len), init_from=str(base), data_dir=data, out_dir=out,
               seq_len=0, micro_batch_size=mb, warmup_steps=WARMUP_STEPS,
               lr=LR_FRACTION * float(raw.get("lr") or PRESET_LR.get(raw.get("preset", "tiny"), 3e-4)))
    if config_file:
        raw.update(read_yaml(config_file))
    for item in overrides or []:  # into the extension's settings: `model.x=...` keeps the other model fields
        set_path(raw, *parse_override(item))
    return build(TrainConfig, raw, "config")


@torch.no_grad()
def perplexity(model: Transformer, windows, max_windows: int = 16, batch: int = 4) -> float:
    """Token-level perplexity exp(mean NLL) over the first `max_windows` windows (PackedWindows)."""
    total, count = 0.0, 0
    n = min(max_windows, len(windows))
    for start in range(0, n, batch):
        x, y = windows.batch(range(start, min(start + batch, n)))
        logits = model(x).float()
        total += torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        count += y.numel()
    return math.exp(total / max(count, 1))


USER_ERRORS = (OSError, ShardError)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, help="the pretraining run (or checkpoint) to extend")
    parser.add_argument("--data", required=True, help="tokens directory (with the long_pretrain documents)")
    parser.add_argument("--out", required=True, help="run directory of the extension")
    parser.add_argument("--seq-len", type=int, default=0,
                        help=f"target context length in tokens (default: {DEFAULT_FACTOR}x the base's)")
    command.add_config_options(parser, "TrainConfig (over the base run's)", "--set lr=2e-5")
    command.add_launcher_options(parser)


def run_cli(args: argparse.Namespace) -> int:
    cfg = extension_config(args.base, args.data, args.out, args.seq_len, args.config, command.overrides(args))
    return pretrain.run_config(cfg, args.resume)
