"""Weight-only quantization of a `Transformer`: int8 per channel, int4 group-wise (RTN or GPTQ).

    python -m trainer.quant.quantize --model <run dir | hf dir> --out DIR --method int4-gptq \
        [--tokens <tokens dir>] [--group-size 128] [--calib-samples 128]

Every `nn.Linear` inside the blocks becomes a `QuantLinear` holding codes, scales and zeros in the
`kernels.quant_format` layout and multiplying through `kernels.quant_matmul` (Triton on a GPU, the
dequantising reference elsewhere). Embeddings, norms and the output head stay in full precision, as
GPTQ (Frantar et al. 2022) and gpt-fast leave them: the head is tied to the embedding table by
default, and a quantized head would not let the table be dropped.

A saved model is a folder: `model.safetensors` (full-precision tensors plus `<linear>.qweight`,
`.scales`, `.zeros`), `quant_config.json` (method, bits and group size per layer, the model config)
and the tokenizer when there is one.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

import kernels
from kernels.quant_format import quantize_int4_groupwise, quantize_int8_per_channel
from trainer.model.transformer import ModelConfig, Transformer

FORMAT = "llm-pipeline-quant/1"
METHODS = ("int8", "int4-rtn", "int4-gptq")


@dataclass
class QuantConfig:
    method: str = "int8"  # one of METHODS
    # 128 is GPTQ's and AWQ's usual int4 group; a layer whose width it does not divide uses the gcd.
    group_size: int = 128
    damp_percent: float = 0.01  # GPTQ: λ = 1% of the mean Hessian diagonal (the paper's default)
    act_order: bool = False  # GPTQ: columns by decreasing Hessian diagonal (static groups)
    block_size: int = 128  # GPTQ: columns updated lazily per block (the paper's B = 128)
    calib_samples: int = 128  # GPTQ: windows drawn from the train shards (the paper: 128 x 2048)
    calib_seq_len: int = 0  # 0: the model's max_seq_len
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")


class QuantLinear(nn.Module):
    """y = x @ dequant(W)^T; W stays packed (int8 (N, K) or two int4 per byte (N, K/2))."""

    def __init__(self, in_features: int, out_features: int, bits: int, group_size: int | None,
                 scale_dtype: torch.dtype = torch.float32):
        super().__init__()
        self.in_features, self.out_features, self.bits, self.group_size = in_features, out_features, bits, group_size
        n_groups = 1 if group_size is None else in_features // group_size
        if bits == 8:
            self.register_buffer("qweight", torch.zeros(out_features, in_features, dtype=torch.int8))
            self.register_buffer("scales", torch.zeros(out_features, dtype=scale_dtype))
            self.zeros = None
        else:
            self.register_buffer("qweight", torch.zeros(out_features, in_features // 2, dtype=torch.uint8))
            self.register_buffer("scales", torch.zeros(out_features, n_groups, dtype=scale_dtype))
            self.register_buffer("zeros", torch.zeros(out_features, n_groups, dtype=torch.uint8))

    @classmethod
    def from_codes(cls, qweight, scales, zeros, bits: int, group_size: int | None) -> QuantLinear:
        n = qweight.shape[0]
        k = qweight.shape[1] * (2 if bits == 4 else 1)
        layer = cls(k, n, bits, group_size, scales.dtype).to(qweight.device)
        layer.qweight.copy_(qweight)
        layer.scales.copy_(scales.reshape(layer.scales.shape))
        if zeros is not None:
            layer.zeros.copy_(zeros)
        return layer

    def dequantized(self) -> torch.Tensor:
        return kernels.dequantize(self.qweight, self.scales, self.zeros, self.bits, self.group_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return kernels.quant_matmul(x, self.qweight, self.scales, self.zeros, self.bits, self.group_size)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, bits={self.bits}, group={self.group_size}"


def group_size_for(in_features: int, group_size: int) -> int:
    """The requested group when it divides the layer's width, else their gcd (kept even)."""
    g = group_size if in_features % group_size == 0 else math.gcd(in_features, group_size)
    if g % 2:
        raise ValueError(f"no even group size divides in_features={in_features} (asked {group_size})")
    return g


def rtn_linear(weight: torch.Tensor, bits: int, group_size: int) -> QuantLinear:
    """Round-to-nearest: int8 symmetric per output channel, or int4 asymmetric per group."""
    if bits == 8:
        q, s = quantize_int8_per_channel(weight)
        return QuantLinear.from_codes(q, s, None, 8, None)
    g = group_size_for(weight.shape[1], group_size)
    packed, s, z = quantize_int4_groupwise(weight, g)
    return QuantLinear.from_codes(packed, s, z, 4, g)


def quantizable(model: Transformer) -> list[tuple[str, nn.Linear]]:
    """The blocks' linears (attention and MLP, experts included): what weight-only methods quantize."""
    return [(f"layers.{name}", m) for name, m in model.layers.named_modules() if isinstance(m, nn.Linear)]


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)


@torch.no_grad()
def quantize_model(model: Transformer, qcfg: QuantConfig, calibration: torch.Tensor | None = None) -> Transformer:
    """Quantize `model` in place (and return it). int4-gptq needs `calibration` token windows (S, T)."""
    model.eval()
    if qcfg.method == "int4-gptq":
        from trainer.quant.gptq import gptq_quantize_model

        if calibration is None:
            raise ValueError("int4-gptq needs calibration windows (trainer.quant.gptq.calibration_windows)")
        return gptq_quantize_model(model, calibration, qcfg)
    bits = 8 if qcfg.method == "int8" else 4
    for name, lin in quantizable(model):
        replace_module(model, name, rtn_linear(lin.weight, bits, qcfg.group_size))
    return model


def model_bytes(model: nn.Module) -> int:
    """Bytes of the saved tensors (parameters and persistent buffers), a tied tensor counted once."""
    seen, total = set(), 0
    for t in model.state_dict().values():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total


def layer_layout(model: Transformer) -> dict[str, dict]:
    return {name: {"bits": m.bits, "group_size": m.group_size, "in_features": m.in_features,
                   "out_features": m.out_features, "scale_dtype": str(m.scales.dtype).removeprefix("torch.")}
            for name, m in model.named_modules() if isinstance(m, QuantLinear)}


def save_quantized(model: Transformer, qcfg: QuantConfig, out: str | Path, tokenizer: str | Path | None = None,
                   extra: dict | None = None) -> Path:
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if model.cfg.tie_embeddings:
        state.pop("output.weight", None)  # safetensors refuses shared storage; re-tied on load
    save_file(state, str(out / "model.safetensors"), metadata={"format": FORMAT})
    meta = {"format": FORMAT, "quant": asdict(qcfg), "model_config": model.cfg.to_dict(),
            "layers": layer_layout(model), "model_bytes": model_bytes(model), **(extra or {})}
    (out / "quant_config.json").write_text(json.dumps(meta, indent=2) + "\n")
    if tokenizer is not None and Path(tokenizer).is_file():
        shutil.copyfile(tokenizer, out / "tokenizer.json")
    return out


def load_quantized(path: str | Path, device: str | torch.device = "cpu") -> Transformer:
    from safetensors.torch import load_file

    path = Path(path)
    meta = json.loads((path / "quant_config.json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}/quant_config.json: format {meta.get('format')!r}, expected {FORMAT!r}")
    model = Transformer(ModelConfig(**meta["model_config"]))
    for name, spec in meta["layers"].items():
        replace_module(model, name, QuantLinear(spec["in_features"], spec["out_features"], spec["bits"],
                                                spec["group_size"], getattr(torch, spec["scale_dtype"])))
    state = load_file(str(path / "model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    allowed_missing = {"output.weight"} if model.cfg.tie_embeddings else set()
    if set(missing) - allowed_missing or unexpected:
        raise ValueError(f"{path}: missing {sorted(set(missing) - allowed_missing)}, unexpected {sorted(unexpected)}")
    return model.to(device).eval()


def main(argv: list[str] | None = None) -> int:
    from trainer.infer.load_model import ModelLoadError, load_model

    parser = argparse.ArgumentParser(prog="python -m trainer.quant.quantize", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="pretrain run dir, checkpoint dir or HF export dir")
    parser.add_argument("--out", required=True)
    parser.add_argument("--method", default="int8", choices=METHODS)
    parser.add_argument("--tokens", help="tokens dir: GPTQ calibration windows come from its train shards")
    parser.add_argument("--group-size", type=int, default=QuantConfig.group_size)
    parser.add_argument("--calib-samples", type=int, default=QuantConfig.calib_samples)
    parser.add_argument("--damp-percent", type=float, default=QuantConfig.damp_percent)
    parser.add_argument("--act-order", action="store_true")
    args = parser.parse_args(argv)
    qcfg = QuantConfig(method=args.method, group_size=args.group_size, calib_samples=args.calib_samples,
                       damp_percent=args.damp_percent, act_order=args.act_order)
    try:
        loaded = load_model(args.model)
    except ModelLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    before = model_bytes(loaded.model)
    calib = None
    if qcfg.method == "int4-gptq":
        if not args.tokens:
            print("error: int4-gptq needs --tokens (calibration windows from the train shards)", file=sys.stderr)
            return 2
        from trainer.quant.gptq import calibration_windows

        calib = calibration_windows(args.tokens, qcfg, loaded.model.cfg.max_seq_len)
    model = quantize_model(loaded.model, qcfg, calib)
    save_quantized(model, qcfg, args.out, loaded.tokenizer, {"source": str(args.model), "fp32_bytes": before})
    print(f"wrote {args.out} ({qcfg.method}): model bytes {before:,} -> {model_bytes(model):,}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main: as __main__, this file's QuantLinear would be a second class
    # beside trainer.quant.quantize.QuantLinear (which trainer.quant.gptq builds), and isinstance would miss it.
    from trainer.quant.quantize import main as _main

    sys.exit(_main())
