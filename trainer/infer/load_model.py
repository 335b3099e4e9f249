"""Load a model for inference from whatever the training DAG leaves behind.

- a pretrain run dir, its `checkpoints/` dir or one step's dir (trainer/train/pretrain.py, DeepSpeed ZeRO
  partitions consolidated with trainer/model/export.py's reader);
- a Hugging Face export folder (`config.json` + `model.safetensors`, trainer/model/export.py);
- a quantized folder (`quant_config.json`, trainer/quant/quantize.py).

The tokenizer is the `tokenizer.json` found beside it (or None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from trainer.model.checkpoint import CheckpointError, load_state, load_transformer
from trainer.model.transformer import ModelConfig, Transformer


class ModelLoadError(ValueError):
    pass


@dataclass
class LoadedModel:
    model: Transformer
    kind: str  # "checkpoint" | "hf" | "quantized"
    tokenizer: Path | None


def _tokenizer_near(*dirs: Path) -> Path | None:
    for d in dirs:
        if (d / "tokenizer.json").is_file():
            return d / "tokenizer.json"
    return None


def config_from_hf(hf: dict) -> ModelConfig:
    """Our ModelConfig from a LlamaConfig dict that trainer/model/export.py wrote (transformers 4 or 5)."""
    params = dict(hf.get("rope_parameters") or {})
    theta = params.pop("rope_theta", hf.get("rope_theta", 10000.0))
    scaling = hf.get("rope_scaling") or (params if params.get("rope_type", "default") != "default" else None)
    max_len = hf["max_position_embeddings"]
    if scaling and scaling.get("rope_type") == "dynamic":
        scaling = {**scaling, "original_max_position_embeddings": max_len}
    return ModelConfig(vocab_size=hf["vocab_size"], dim=hf["hidden_size"], n_layers=hf["num_hidden_layers"],
                       n_heads=hf["num_attention_heads"], n_kv_heads=hf.get("num_key_value_heads"),
                       ffn_dim=hf["intermediate_size"], norm_eps=hf["rms_norm_eps"], max_seq_len=max_len,
                       rope_theta=theta, rope_scaling=scaling,
                       tie_embeddings=bool(hf.get("tie_word_embeddings", True)))


def load_hf_folder(path: Path) -> Transformer:
    from safetensors.torch import load_file

    from trainer.model.export import HF_NAMES

    cfg = config_from_hf(json.loads((path / "config.json").read_text()))
    hf_state = load_file(str(path / "model.safetensors"))
    state = {}
    for ours, theirs in HF_NAMES.items():
        for i in range(cfg.n_layers) if "{i}" in ours else [None]:
            if theirs.format(i=i) in hf_state:
                state[ours.format(i=i)] = hf_state[theirs.format(i=i)].float()
    try:
        return load_state(Transformer(cfg), state, str(path)).eval()
    except CheckpointError as e:
        raise ModelLoadError(str(e)) from e




def load_model(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    path = Path(path)
    if (path / "quant_config.json").is_file():
        from trainer.quant.quantize import load_quantized

        return LoadedModel(load_quantized(path, device), "quantized", _tokenizer_near(path))
    if (path / "config.json").is_file() and (path / "model.safetensors").is_file():
        return LoadedModel(load_hf_folder(path).to(device), "hf", _tokenizer_near(path))
    try:
        model = load_transformer(path).eval()
    except CheckpointError as e:
        raise ModelLoadError(f"{path}: not a checkpoint, an HF export or a quantized model folder ({e})") from e
    return LoadedModel(model.to(device), "checkpoint", _tokenizer_near(path, path.parent, path.parent.parent))
