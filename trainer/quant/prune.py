"""`python -m trainer prune`: magnitude or Wanda weight pruning, unstructured or 2:4, as a model folder.

    python -m trainer prune --model <run dir | hf dir> --out DIR --method wanda --sparsity 0.5 \
        --tokens <tokens dir> [--pattern 2:4] [--calib-samples 128]

The blocks' linears (attention and MLP) are pruned; embeddings, norms and the head stay dense, as in
Wanda (Sun et al. 2023). Scores, lowest pruned first:
- `magnitude`: |W|, compared across the whole layer (the paper's magnitude baseline);
- `wanda`: |W_ij| · ||X_j||₂, X_j the j-th input feature over calibration tokens, compared within
  each output row (the paper's rule). Blocks are pruned in order and each block's inputs come from
  the already pruned blocks before it, as the reference implementation does.
`--pattern 2:4` keeps the 2 best of every 4 consecutive input weights (NVIDIA's semi-structured
sparsity; 50% by construction). The output is a Hugging Face folder (trainer/model/export.py) with
zeros in the pruned weights and `"pruning"` (method, pattern, target and measured sparsity) in
config.json, so `evaluate`, `export`-style consumers and transformers load it like any model.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from trainer.config import ConfigError
from trainer.infer.load_model import ModelLoadError, load_model
from trainer.model.transformer import Transformer

METHODS = ("magnitude", "wanda")
PATTERNS = ("unstructured", "2:4")
USER_ERRORS = (ModelLoadError,)


class PruneError(ConfigError):
    """A sparsity or pattern that cannot be applied: one line, exit 2."""


@dataclass
class PruneConfig:
    method: str = "wanda"
    sparsity: float = 0.5  # share of each layer's weights set to zero (2:4: always 0.5)
    pattern: str = "unstructured"
    calib_samples: int = 128  # Wanda's 128 calibration sequences
    calib_seq_len: int = 0  # 0: the model's max_seq_len (Wanda: 2048)

    def __post_init__(self):
        if self.method not in METHODS:
            raise PruneError(f"prune method must be one of {METHODS}, got {self.method!r}")
        if self.pattern not in PATTERNS:
            raise PruneError(f"prune pattern must be one of {PATTERNS}, got {self.pattern!r}")
        if self.pattern == "2:4":
            self.sparsity = 0.5
        if not 0.0 < self.sparsity < 1.0:
            raise PruneError(f"sparsity must be in (0, 1), got {self.sparsity}")


def block_linears(block: nn.Module) -> dict[str, nn.Linear]:
    return {name: m for name, m in block.named_modules() if isinstance(m, nn.Linear)}


def check_pattern(model: Transformer, pattern: str) -> None:
    if pattern != "2:4":
        return
    for i, block in enumerate(model.layers):
        for name, lin in block_linears(block).items():
            if lin.in_features % 4:
                raise PruneError(f"2:4 needs input widths divisible by 4; layers.{i}.{name} has {lin.in_features}")


def prune_mask(score: torch.Tensor, sparsity: float, pattern: str, per_row: bool) -> torch.Tensor:
    """Boolean keep-mask for a weight's score (out, in): the lowest `sparsity` share goes."""
    if pattern == "2:4":
        groups = score.reshape(score.shape[0], -1, 4)
        keep = torch.zeros_like(groups, dtype=torch.bool)
        keep.scatter_(-1, groups.topk(2, dim=-1).indices, True)
        return keep.reshape(score.shape)
    if per_row:
        n_drop = int(score.shape[1] * sparsity)
        drop = score.argsort(dim=1)[:, :n_drop]
        return torch.ones_like(score, dtype=torch.bool).scatter_(1, drop, False)
    n_drop = int(score.numel() * sparsity)
    drop = score.flatten().argsort()[:n_drop]
    return torch.ones(score.numel(), dtype=torch.bool, device=score.device).scatter_(0, drop, False).view(score.shape)


@torch.no_grad()
def prune_model(model: Transformer, pcfg: PruneConfig, calibration: torch.Tensor | None = None) -> Transformer:
    """Zero weights of `model` in place (and return it). Wanda needs `calibration` token windows (S, T)."""
    model.eval()
    check_pattern(model, pcfg.pattern)
    if pcfg.method == "magnitude":
        for block in model.layers:
            for lin in block_linears(block).values():
                lin.weight.mul_(prune_mask(lin.weight.abs(), pcfg.sparsity, pcfg.pattern, per_row=False))
        return model
    if calibration is None:
        raise PruneError("wanda needs calibration windows (--tokens)")
    h = model.tok_embeddings(calibration)
    cos, sin = model.rotary_tables(calibration.shape[1], calibration.device)
    for block in model.layers:
        sq: dict[str, torch.Tensor] = {}

        def hook(name, sq=sq):
            def record(_module, inputs, _output):
                x = inputs[0].float().reshape(-1, inputs[0].shape[-1])
                sq[name] = sq.get(name, 0) + x.pow(2).sum(0)
            return record

        linears = block_linears(block)
        handles = [lin.register_forward_hook(hook(name)) for name, lin in linears.items()]
        block(h, cos, sin)  # the inputs this block sees after the pruned blocks before it
        for handle in handles:
            handle.remove()
        for name, lin in linears.items():
            if name not in sq:  # an MoE expert no calibration token was routed to: magnitude per row
                sq[name] = torch.ones(lin.in_features)
            score = lin.weight.abs() * sq[name].sqrt().to(lin.weight.dtype)[None, :]
            lin.weight.mul_(prune_mask(score, pcfg.sparsity, pcfg.pattern, per_row=True))
        h = block(h, cos, sin)
    return model


def measured_sparsity(model: Transformer) -> float:
    zeros = total = 0
    for block in model.layers:
        for lin in block_linears(block).values():
            zeros += int((lin.weight == 0).sum())
            total += lin.weight.numel()
    return zeros / max(total, 1)


def save_pruned(model: Transformer, pcfg: PruneConfig, out: str | Path, tokenizer: Path | None,
                source: str = "") -> Path:
    from trainer.model.export import write_hf_folder

    out = write_hf_folder(model.state_dict(), model.cfg, Path(out), tokenizer)
    config = json.loads((out / "config.json").read_text())
    config["pruning"] = {**asdict(pcfg), "measured_sparsity": round(measured_sparsity(model), 6), "source": source}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="pretrain run dir, checkpoint dir or HF folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--method", default="wanda", choices=METHODS)
    parser.add_argument("--sparsity", type=float, default=PruneConfig.sparsity)
    parser.add_argument("--pattern", default="unstructured", choices=PATTERNS)
    parser.add_argument("--tokens", help="tokens dir: Wanda's calibration windows come from its train shards")
    parser.add_argument("--calib-samples", type=int, default=PruneConfig.calib_samples)
    parser.add_argument("--calib-seq-len", type=int, default=PruneConfig.calib_seq_len)


def run_cli(args: argparse.Namespace) -> int:
    pcfg = PruneConfig(args.method, args.sparsity, args.pattern, args.calib_samples, args.calib_seq_len)
    if pcfg.method == "wanda" and not args.tokens:
        raise PruneError("wanda needs --tokens (calibration windows from the train shards)")
    loaded = load_model(args.model)
    if loaded.kind == "quantized":
        raise PruneError(f"{args.model} is quantized; prune the full-precision model")
    check_pattern(loaded.model, pcfg.pattern)
    calib = None
    if pcfg.method == "wanda":
        from trainer.quant.gptq import calibration_windows
        from trainer.quant.linear import QuantConfig

        qcfg = QuantConfig(calib_samples=pcfg.calib_samples, calib_seq_len=pcfg.calib_seq_len)
        calib = calibration_windows(args.tokens, qcfg, loaded.model.cfg.max_seq_len)
    model = prune_model(loaded.model, pcfg, calib)
    save_pruned(model, pcfg, args.out, loaded.tokenizer, str(args.model))
    print(f"wrote {args.out} ({pcfg.method} {pcfg.pattern}): sparsity {measured_sparsity(model):.3f}")
    return 0
