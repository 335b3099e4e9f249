"""Export a DeepSpeed checkpoint as a Hugging Face `LlamaForCausalLM` (or, with MoE, `MixtralForCausalLM`) folder.

    python -m trainer export --checkpoint <run dir | run/checkpoints | run/checkpoints/stepNNNNNNNN> --out DIR

ZeRO partitions (stage 1/2/3, any number of ranks) are consolidated to fp32 with DeepSpeed's
zero_to_fp32 API; the folder gets `model.safetensors`, `config.json`, `generation_config.json` and
the tokenizer, and loads with `AutoModelForCausalLM.from_pretrained(DIR)`, no custom code.

The q/k rotary layout: Meta's Llama checkpoints rotate interleaved pairs (x0,x1),(x2,x3)... and HF
permutes wq/wk rows to its "rotate halves" layout on conversion. trainer/model/transformer.py uses the halves
layout itself (trainer/model/rope.py), so this adapter only renames tensors: no permute is needed.

MoE models (trainer/model/moe.py) export as Mixtral in the Hub's layout (`block_sparse_moe.gate`,
`block_sparse_moe.experts.N.w1/w2/w3`): transformers 4.x reads it as is, 5.x fuses the experts on
load (its conversion_mapping). Mixtral has experts in every layer, so a dense layer of a partly-MoE
model becomes n_experts copies of its MLP behind a zero gate: any top-k mix of identical experts,
with weights summing to one, is that MLP again (up to rounding).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from trainer.model import rope
from trainer.model.checkpoint import (
    CheckpointError,
    consolidated_state_dict,
    find_tokenizer,
    locate,
    model_config_of,
)
from trainer.model.transformer import ModelConfig

EOS_TOKEN = "<|endoftext|>"

# ours -> Hugging Face Llama; {i} is the layer index.
HF_NAMES = {
    "tok_embeddings.weight": "model.embed_tokens.weight",
    "norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    "layers.{i}.attention_norm.weight": "model.layers.{i}.input_layernorm.weight",
    "layers.{i}.attention.wq.weight": "model.layers.{i}.self_attn.q_proj.weight",
    "layers.{i}.attention.wk.weight": "model.layers.{i}.self_attn.k_proj.weight",
    "layers.{i}.attention.wv.weight": "model.layers.{i}.self_attn.v_proj.weight",
    "layers.{i}.attention.wo.weight": "model.layers.{i}.self_attn.o_proj.weight",
    "layers.{i}.ffn_norm.weight": "model.layers.{i}.post_attention_layernorm.weight",
    "layers.{i}.feed_forward.w1.weight": "model.layers.{i}.mlp.gate_proj.weight",
    "layers.{i}.feed_forward.w3.weight": "model.layers.{i}.mlp.up_proj.weight",
    "layers.{i}.feed_forward.w2.weight": "model.layers.{i}.mlp.down_proj.weight",
}
# ours -> Mixtral's sparse block, per MoE layer {i} and expert {e}.
MIXTRAL_GATE = ("layers.{i}.feed_forward.gate.weight", "model.layers.{i}.block_sparse_moe.gate.weight")
MIXTRAL_EXPERT = {f"layers.{{i}}.feed_forward.experts.{{e}}.{w}.weight":
                  f"model.layers.{{i}}.block_sparse_moe.experts.{{e}}.{w}.weight" for w in ("w1", "w2", "w3")}


def to_hf_state_dict(state: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    def take(key: str) -> torch.Tensor:
        if key not in state:
            raise CheckpointError(f"checkpoint lacks {key}")
        return state[key].detach().contiguous().clone()

    if cfg.attention == "nsa":  # trainer/model/nsa.py: its compression MLPs and gates have no Llama tensors
        raise CheckpointError("a model with NSA attention has no Hugging Face architecture to export to")
    if cfg.head_vocab:  # a restricted draft head (trainer/posttrain/distill.py): lm_head must have every id's row
        raise CheckpointError(f"a model whose head scores {cfg.head_vocab} of {cfg.vocab_size} ids (head_vocab) "
                              "has no Hugging Face architecture to export to")
    out = {}
    for ours, theirs in HF_NAMES.items():
        for i in range(cfg.n_layers) if "{i}" in ours else [None]:
            key = ours.format(i=i)
            if key == "output.weight" and cfg.tie_embeddings:
                continue  # HF re-ties lm_head to embed_tokens from config.tie_word_embeddings
            if cfg.n_experts and ".feed_forward." in key:
                continue  # Mixtral: below
            out[theirs.format(i=i)] = take(key)
    for i in range(cfg.n_layers) if cfg.n_experts else []:
        gate_name = MIXTRAL_GATE[1].format(i=i)
        if cfg.is_moe_layer(i):
            out[gate_name] = take(MIXTRAL_GATE[0].format(i=i))
            for e in range(cfg.n_experts):
                for ours, theirs in MIXTRAL_EXPERT.items():
                    out[theirs.format(i=i, e=e)] = take(ours.format(i=i, e=e))
        else:  # a dense layer: identical experts behind a zero gate (see the module docstring)
            out[gate_name] = torch.zeros(cfg.n_experts, cfg.dim)
            for e in range(cfg.n_experts):
                for ours, theirs in MIXTRAL_EXPERT.items():
                    dense = ours.replace(".experts.{e}", "").format(i=i)
                    out[theirs.format(i=i, e=e)] = take(dense)
    return out


def rope_fields(cfg: ModelConfig) -> tuple[int, dict]:
    """(max_position_embeddings, HF rope parameters). HF's NTK ("dynamic") scales from
    max_position_embeddings, so for it that field carries the pretraining context length."""
    kind = rope.rope_type(cfg.rope_scaling)
    params = {"rope_type": kind, "rope_theta": cfg.rope_theta}
    max_positions = cfg.max_seq_len
    if kind != "default":
        params.update({k: v for k, v in cfg.rope_scaling.items() if k != "type"})
        params["rope_type"] = kind
    if kind == "dynamic":
        max_positions = rope.original_max_len(cfg.rope_scaling, cfg.max_seq_len)
        params.pop("original_max_position_embeddings", None)
    if kind == "yarn":
        params["original_max_position_embeddings"] = rope.original_max_len(cfg.rope_scaling, cfg.max_seq_len)
    return max_positions, params


def hf_config(cfg: ModelConfig, eos_id: int, dtype: torch.dtype):
    from transformers import LlamaConfig, MixtralConfig

    config_class = MixtralConfig if cfg.n_experts else LlamaConfig
    max_positions, params = rope_fields(cfg)
    if "rope_parameters" in getattr(config_class, "__annotations__", {}):  # transformers >= 5
        rope_kwargs = {"rope_parameters": params}
    else:
        theta = params.pop("rope_theta")
        rope_kwargs = {"rope_theta": theta, "rope_scaling": params if params["rope_type"] != "default" else None}
    common = dict(
        vocab_size=cfg.vocab_size, hidden_size=cfg.dim, intermediate_size=cfg.ffn_dim,
        num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads, num_key_value_heads=cfg.n_kv_heads,
        head_dim=cfg.head_dim, hidden_act="silu", max_position_embeddings=max_positions,
        rms_norm_eps=cfg.norm_eps, tie_word_embeddings=cfg.tie_embeddings,
        bos_token_id=eos_id, eos_token_id=eos_id, torch_dtype=dtype, **rope_kwargs,
    )
    if cfg.n_experts:  # routing as trainer/model/moe.py; capacity is a training-time limit, inference is dropless
        return MixtralConfig(**common, num_local_experts=cfg.n_experts, num_experts_per_tok=cfg.moe_top_k,
                             router_aux_loss_coef=cfg.moe_aux_loss_coef, sliding_window=None,
                             architectures=["MixtralForCausalLM"])
    return LlamaConfig(**common, attention_bias=False, mlp_bias=False, architectures=["LlamaForCausalLM"])


def write_hf_folder(state: dict[str, torch.Tensor], cfg: ModelConfig, out: Path,
                    tokenizer_file: Path | None, dtype: torch.dtype = torch.float32) -> Path:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    eos_id = 0
    if tokenizer_file is not None:
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        eos = Tokenizer.from_file(str(tokenizer_file)).token_to_id(EOS_TOKEN)
        eos_id = 0 if eos is None else eos
        fast = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file), eos_token=EOS_TOKEN,
                                       bos_token=EOS_TOKEN)
        fast.model_max_length = cfg.max_seq_len
        fast.save_pretrained(out)
    tensors = {k: v.to(dtype) for k, v in to_hf_state_dict(state, cfg).items()}
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    config = hf_config(cfg, eos_id, dtype)
    config.save_pretrained(out)
    from transformers import GenerationConfig

    GenerationConfig(bos_token_id=eos_id, eos_token_id=eos_id).save_pretrained(out)
    return out


def export(checkpoint: str | Path, out: str | Path, tokenizer: str | Path | None = None,
           dtype: str = "float32") -> Path:
    ckpt_dir, tag = locate(checkpoint)
    cfg = model_config_of(checkpoint)
    state = consolidated_state_dict(ckpt_dir, tag)
    tok = Path(tokenizer) if tokenizer else find_tokenizer(ckpt_dir)
    return write_hf_folder(state, cfg, Path(out), tok, getattr(torch, dtype))


USER_ERRORS = (FileNotFoundError,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="run dir, its checkpoints/ dir, or one step's dir")
    parser.add_argument("--out", required=True, help="the Hugging Face model folder to write")
    parser.add_argument("--tokenizer", help="tokenizer.json (default: the one beside the checkpoints)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])


def run_cli(args: argparse.Namespace) -> int:
    out = export(args.checkpoint, args.out, args.tokenizer, args.dtype)
    print(f"wrote {out} ({json.loads((out / 'config.json').read_text())['architectures'][0]})")
    return 0
