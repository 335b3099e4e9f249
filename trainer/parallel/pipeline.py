"""Pipeline parallelism with DeepSpeed's `PipelineModule` and its 1F1B PipelineEngine.

The Transformer is re-expressed as the flat layer list a pipeline needs: embedding, one stage module per
block (each recomputes its RoPE tables, so only the hidden state crosses stage boundaries), final norm,
head. A tied embedding/head is a `TiedLayerSpec` on the first and last stages, whose gradients
DeepSpeed all-reduces between them. Stages are balanced by block count (`type:BlockStage`); the
config's check (mesh.py) requires n_layers % pp == 0 and ZeRO 0/1 (the engine refuses 2 and 3).

`to_pipeline_state` / `from_pipeline_state` map parameter names both ways, so a single-rank checkpoint
starts a pipeline and a pipeline's stages consolidate into the single-rank format (and its HF export).
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from trainer.model import rope
from trainer.model.transformer import Block, ModelConfig, RMSNorm


class EmbeddingStage(nn.Embedding):
    pass


class BlockStage(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_id: int):
        super().__init__()
        self.block = Block(cfg, layer_id)
        inv_freq, self.rope_scale = rope.inv_frequencies(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling,
                                                         cfg.max_seq_len)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        cos, sin = rope.cos_sin(self.inv_freq, self.rope_scale, h.shape[1], h.device)
        return self.block(h, cos, sin)


class HeadStage(nn.Linear):
    pass


def _head(embedding: nn.Embedding, h: torch.Tensor) -> torch.Tensor:
    return F.linear(h, embedding.weight)


def cross_entropy_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())


def pipeline_module(cfg: ModelConfig, num_stages: int):
    from deepspeed.pipe import LayerSpec, PipelineModule, TiedLayerSpec

    if cfg.rope_scaling or cfg.gradient_checkpointing:
        raise ValueError("the pipeline stages use plain RoPE and no recomputation")
    layers = [TiedLayerSpec("embed", EmbeddingStage, cfg.vocab_size, cfg.dim) if cfg.tie_embeddings
              else LayerSpec(EmbeddingStage, cfg.vocab_size, cfg.dim)]
    layers += [LayerSpec(BlockStage, cfg, i) for i in range(cfg.n_layers)]
    layers.append(LayerSpec(RMSNorm, cfg.dim, cfg.norm_eps))
    layers.append(TiedLayerSpec("embed", EmbeddingStage, cfg.vocab_size, cfg.dim, forward_fn=_head)
                  if cfg.tie_embeddings else LayerSpec(HeadStage, cfg.dim, cfg.vocab_size, bias=False))
    return PipelineModule(layers=layers, num_stages=num_stages, loss_fn=cross_entropy_loss,
                          partition_method="type:BlockStage")


def _pipeline_name(name: str, cfg: ModelConfig) -> str | None:
    """A Transformer parameter name -> its PipelineModule name (None: not held as such)."""
    n = cfg.n_layers
    if name == "tok_embeddings.weight":
        return "tied_modules.embed.weight" if cfg.tie_embeddings else "0.weight"
    if name == "output.weight":
        return None if cfg.tie_embeddings else f"{n + 2}.weight"
    if name == "norm.weight":
        return f"{n + 1}.weight"
    m = re.fullmatch(r"layers\.(\d+)\.(.+)", name)
    return f"{int(m.group(1)) + 1}.block.{m.group(2)}" if m else None


def to_pipeline_state(state: dict, cfg: ModelConfig, pipe: nn.Module) -> dict:
    """The subset of a single-rank state dict that this rank's stage holds, under the stage's names."""
    held = dict(pipe.state_dict())
    out = {}
    for name, value in state.items():
        target = _pipeline_name(name, cfg)
        if target in held:
            out[target] = value
    return out


def from_pipeline_state(stage_states: list[dict], cfg: ModelConfig) -> dict:
    """Every stage's state dict -> the single-rank Transformer state dict."""
    merged = {k: v for s in stage_states for k, v in s.items()}
    inverse = {}
    for name in merged:
        if name == "tied_modules.embed.weight":
            inverse["tok_embeddings.weight"] = name
            continue
        index, _, rest = name.partition(".")
        i = int(index)
        if i == 0:
            inverse["tok_embeddings.weight"] = name
        elif i <= cfg.n_layers:
            inverse[f"layers.{i - 1}.{rest.removeprefix('block.')}"] = name
        elif i == cfg.n_layers + 1:
            inverse["norm.weight"] = name
        else:
            inverse["output.weight"] = name
    state = {k: merged[v] for k, v in inverse.items()}
    if cfg.tie_embeddings:
        state["output.weight"] = state["tok_embeddings.weight"]
    return state
