"""Weight-only quantization of a `Transformer`: int8 per channel, int4 group-wise (RTN or GPTQ).

Every `nn.Linear` inside the blocks becomes a `QuantLinear` (trainer/quant/linear.py). Embeddings, norms and the output head stay in full precision, as
GPTQ (Frantar et al. 2022) and gpt-fast leave them: the head is tied to the embedding table by
default, and a quantized head would not let the table be dropped.

A saved model is a folder: `model.safetensors` (full-precision tensors plus `<linear>.qweight`,
`.scales`, `.zeros`), `quant_config.json` (method, bits and group size per layer, the model config)
and the tokenizer when there is one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import torch

from trainer.model.transformer import ModelConfig, Transformer
from trainer.quant.gptq import gptq_quantize_model
from trainer.quant.linear import (
    QuantConfig,
    QuantLinear,
    model_bytes,
    quantizable,
    replace_module,
    rtn_linear,
)

FORMAT = "llm-pipeline-quant/1"


@torch.no_grad()
def quantize_model(model: Transformer, qcfg: QuantConfig, calibration: torch.Tensor | None = None) -> Transformer:
    """Quantize `model` in place (and return it). int4-gptq needs `calibration` token windows (S, T)."""
    model.eval()
    if qcfg.method == "int4-gptq":
        if calibration is None:
            raise ValueError("int4-gptq needs calibration windows (trainer.quant.gptq.calibration_windows)")
        return gptq_quantize_model(model, calibration, qcfg)
    bits = 8 if qcfg.method == "int8" else 4
    for name, lin in quantizable(model):
        replace_module(model, name, rtn_linear(lin.weight, bits, qcfg.group_size))
    return model


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
