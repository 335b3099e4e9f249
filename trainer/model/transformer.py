"""A Llama-style decoder: RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP.

Read top to bottom: config and presets, then the blocks, then the model. Parameter layout follows
Hugging Face's Llama (rotary "rotate halves", weights as (out, in)), so `trainer/model/export.py` only
renames tensors: no q/k permute is needed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from trainer.model import rope
from trainer.model.moe import MoE

ATTENTION_IMPLS = ("sdpa", "triton", "torch", "nsa")


@dataclass
class ModelConfig:
    vocab_size: int = 0  # 0: taken from the token shards' index.json when training starts
    dim: int = 128
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int | None = None  # None: n_heads (multi-head); fewer: grouped-query attention
    ffn_dim: int | None = None  # None: Llama's 8/3·dim rounded up to `multiple_of`
    multiple_of: int = 64
    norm_eps: float = 1e-5
    max_seq_len: int = 128
    rope_theta: float = 10000.0
    # HF-style dict: {"rope_type": "linear"|"dynamic"|"yarn", "factor": 4.0,
    #                 "original_max_position_embeddings": 2048, ...}; None: plain RoPE.
    rope_scaling: dict | None = None
    tie_embeddings: bool = True
    attention: str = "sdpa"  # "sdpa" (torch), or "triton"/"torch" through kernels.attention, or "nsa"
    nsa: dict | None = None  # attention "nsa": trainer.model.nsa.NSAConfig fields (None: the paper's defaults)
    init_std: float = 0.02
    gradient_checkpointing: bool = False  # recompute each block in backward: memory for time
    # Mixture of experts (trainer/model/moe.py); n_experts 0 keeps every MLP dense (the default).
    n_experts: int = 0
    moe_top_k: int = 2  # Mixtral routes each token to 2 of 8 experts
    moe_layers: list[int] | None = None  # None: every layer (as Mixtral); else these layer indices
    moe_capacity_factor: float = 0.0  # 0: dropless; Switch Transformer trains with 1.0-1.25
    moe_aux_loss_coef: float = 0.01  # Switch Transformer's alpha (Fedus et al. 2021)
    # > 0: the output head scores only these many token ids (buffer `head_ids`), every other id's logit is -inf.
    # A speculative draft's cost is mostly its vocab-wide head; ids stay the full vocabulary's (exact acceptance).
    head_vocab: int = 0

    def __post_init__(self):
        if self.n_kv_heads is None:
            self.n_kv_heads = self.n_heads
        if self.ffn_dim is None:
            hidden = int(2 * (4 * self.dim) / 3)  # SwiGLU keeps the 4·dim MLP's parameter count
            self.ffn_dim = self.multiple_of * math.ceil(hidden / self.multiple_of)
        if self.dim % self.n_heads or self.n_heads % self.n_kv_heads:
            raise ValueError(f"dim {self.dim}, n_heads {self.n_heads}, n_kv_heads {self.n_kv_heads} do not divide")
        if self.attention not in ATTENTION_IMPLS:
            raise ValueError(f"attention must be one of {ATTENTION_IMPLS}, got {self.attention!r}")
        rope.rope_type(self.rope_scaling)  # validates early
        if self.n_experts:
            if not 1 <= self.moe_top_k <= self.n_experts:
                raise ValueError(f"moe_top_k {self.moe_top_k} must be in [1, n_experts={self.n_experts}]")
            if any(not 0 <= i < self.n_layers for i in self.moe_layers or []):
                raise ValueError(f"moe_layers {self.moe_layers} must index layers 0..{self.n_layers - 1}")

    def is_moe_layer(self, i: int) -> bool:
        return self.n_experts > 0 and (self.moe_layers is None or i in self.moe_layers)

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, dict] = {
    # Tests and the demo: trains on 2 CPU cores in seconds.
    "tiny": dict(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, max_seq_len=64),
    # GPT-2 small's shape (~125M parameters with a 50k vocabulary, tied embeddings).
    "125m": dict(dim=768, n_layers=12, n_heads=12, n_kv_heads=4, ffn_dim=2048, max_seq_len=2048),
    # Llama 3.2 1B's shape (~1.0B with a 32k vocabulary; 1.2B with Llama's 128k).
    "1b": dict(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, ffn_dim=8192, max_seq_len=2048,
               rope_theta=500000.0, gradient_checkpointing=True),
}


def model_config(preset: str, overrides: dict | None = None) -> ModelConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; known: {', '.join(PRESETS)}")
    values = {**PRESETS[preset], **(overrides or {})}
    unknown = set(values) - {f.name for f in dataclasses.fields(ModelConfig)}
    if unknown:
        raise ValueError(f"unknown model field(s): {', '.join(sorted(unknown))}")
    return ModelConfig(**values)


class RMSNorm(nn.Module):
    """Zhang & Sennrich 2019; computed in fp32 like HF's LlamaRMSNorm."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.impl = cfg.attention
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)
        # core(q, k, v) -> y replaces the causal kernel when the sequence is split across ranks
        # (trainer/parallel: Ulysses all-to-all or ring attention); None: the local kernel.
        self.core = None

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, kv=None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """`kv` (a trainer.infer.kv_cache.LayerKV) appends this step's keys/values and returns all cached;
        `mask` (B, 1, T, T_k) bool, True = may attend, replaces the causal flag (padding, cache)."""
        B, T, _ = x.shape
        q = self.wq(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = rope.apply_rotary(q, cos, sin), rope.apply_rotary(k, cos, sin)
        if kv is not None and hasattr(kv, "attend"):  # KV eviction (trainer/infer/kv_eviction.py) needs the weights
            return self.wo(kv.attend(q, k, v, mask).transpose(1, 2).reshape(B, T, -1))
        if kv is not None:
            k, v = kv.update(k, v)
            if mask is None and k.shape[2] != T:  # causal, bottom-right: the new tokens follow the cache
                mask = torch.ones(T, k.shape[2], dtype=torch.bool, device=x.device).tril(k.shape[2] - T)
        if mask is not None:  # inference with padding or a cache: the kernels take only a causal flag
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=self.n_kv_heads != self.n_heads)
        elif self.core is not None:
            y = self.core(q, k, v)
        elif self.impl == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.n_kv_heads != self.n_heads)
        else:
            import kernels  # lazily: the default path must not depend on kernels/

            y = kernels.attention(q, k, v, causal=True, impl=self.impl)
        return self.wo(y.transpose(1, 2).reshape(B, T, -1))


class FeedForward(nn.Module):
    """SwiGLU (Shazeer 2020): w2(silu(w1 x) * w3 x)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.w1 = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.w3 = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.w2 = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_id: int = 0):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        if cfg.attention == "nsa":  # native sparse attention (trainer/model/nsa.py)
            from trainer.model.nsa import NSAAttention

            self.attention = NSAAttention(cfg)
        else:
            self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        if cfg.is_moe_layer(layer_id):
            self.feed_forward = MoE(cfg.dim, cfg.ffn_dim, cfg.n_experts, cfg.moe_top_k, cfg.moe_capacity_factor)
        else:
            self.feed_forward = FeedForward(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, kv=None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attention(self.attention_norm(x), cos, sin, kv, mask)
        return x + self.feed_forward(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise ValueError("ModelConfig.vocab_size must be set (it comes from the tokenizer)")
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.output = nn.Linear(cfg.dim, cfg.head_vocab or cfg.vocab_size, bias=False)
        if cfg.head_vocab:  # which ids the restricted head scores (filled by whoever builds the model)
            self.register_buffer("head_ids", torch.arange(cfg.head_vocab))
        elif cfg.tie_embeddings:
            self.output.weight = self.tok_embeddings.weight
        inv_freq, self.rope_scale = rope.inv_frequencies(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling, cfg.max_seq_len)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init_weights)
        # GPT-2's scaled init of the residual projections: std / sqrt(2 · n_layers).
        for name, p in self.named_parameters():
            if name.endswith(("wo.weight", "w2.weight")):
                nn.init.normal_(p, mean=0.0, std=cfg.init_std / math.sqrt(2 * cfg.n_layers))

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=self.cfg.init_std)

    def rotary_tables(self, seq_len: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        inv_freq, scale = self.inv_freq, self.rope_scale
        # NTK ("dynamic") rescales the base once the sequence outgrows the pretraining context.
        if rope.rope_type(cfg.rope_scaling) == "dynamic" and seq_len > rope.original_max_len(
            cfg.rope_scaling, cfg.max_seq_len
        ):
            inv_freq, scale = rope.inv_frequencies(
                cfg.head_dim, cfg.rope_theta, cfg.rope_scaling, cfg.max_seq_len, seq_len
            )
        return rope.cos_sin(inv_freq, scale, seq_len, device)

    def forward(self, tokens: torch.Tensor, cache=None, positions: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, keep_last: int = 0) -> torch.Tensor:
        """tokens (B, T) int64 -> logits (B, T, vocab).

        Inference (trainer/infer/generate.py) may pass a `cache` (trainer.infer.kv_cache.KVCache: layer i gets
        `cache[i]`), per-token RoPE `positions` (B, T) and an attention `mask` (B, 1, T, T_k);
        without them this is the training forward, unchanged. `keep_last` > 0 returns the logits of the
        last positions only: a prefill needs one, and the head of a 49k vocabulary costs a fifth of
        SmolLM2-135M's forward per position."""
        if positions is None and cache is not None and len(cache):  # unpadded: continue after the cache
            positions = torch.arange(len(cache), len(cache) + tokens.shape[1], device=tokens.device)[None]
        if positions is None:
            cos, sin = self.rotary_tables(tokens.shape[1], tokens.device)
        else:  # per-sequence positions (left-padded prompts, decode steps): (B, 1, T, D) tables
            cos, sin = self.rotary_tables(int(positions.max()) + 1, tokens.device)
            cos, sin = cos[positions].unsqueeze(1), sin[positions].unsqueeze(1)
        h = self.tok_embeddings(tokens)
        for i, layer in enumerate(self.layers):
            if self.cfg.gradient_checkpointing and self.training:
                h = checkpoint(layer, h, cos, sin, use_reentrant=False)
            elif cache is None and mask is None:
                h = layer(h, cos, sin)
            else:
                h = layer(h, cos, sin, None if cache is None else cache[i], mask)
        logits = self.output(self.norm(h[:, -keep_last:] if keep_last else h))
        if self.cfg.head_vocab:
            full = logits.new_full((*logits.shape[:-1], self.cfg.vocab_size), float("-inf"))
            return full.index_copy_(-1, self.head_ids, logits)
        return logits

    def num_params(self, exclude_embedding: bool = False) -> int:
        n = sum(p.numel() for p in self.parameters())  # a tied weight is counted once
        if exclude_embedding and not self.cfg.tie_embeddings:
            n -= self.tok_embeddings.weight.numel()
        return n


def flops_per_token(cfg: ModelConfig, n_params: int, seq_len: int) -> float:
    """Training FLOPs per token: 6N for the matmuls (Kaplan et al. 2020) + 12·L·T·dim for attention
    scores and values (PaLM, Chowdhery et al. 2022, appendix B). N excludes the embedding lookup but
    keeps the output projection (a tied table counts once, as the head)."""
    return 6.0 * n_params + 12.0 * cfg.n_layers * seq_len * cfg.dim


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())


__all__ = ["ModelConfig", "PRESETS", "Transformer", "model_config", "flops_per_token", "cross_entropy"]
