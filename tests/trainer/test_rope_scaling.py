"""trainer/model/rope.py against transformers' ROPE_INIT_FUNCTIONS and LlamaRotaryEmbedding, numerically."""

import pytest
import torch

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding  # noqa: E402

from trainer.model import rope  # noqa: E402

HEAD_DIM, THETA, MAX_LEN = 64, 10000.0, 256

SCALINGS = {
    "linear": {"rope_type": "linear", "factor": 4.0},
    "ntk": {"rope_type": "dynamic", "factor": 2.0},
    "ntk-long-context": {"rope_type": "dynamic", "factor": 8.0, "original_max_position_embeddings": 128},
    "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128},
    "yarn-betas-untruncated": {"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 64,
                               "beta_fast": 16, "beta_slow": 2, "truncate": False},
    "yarn-mscale": {"rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096,
                    "mscale": 1.0, "mscale_all_dim": 0.707},  # DeepSeek-V2-style
    "yarn-attention-factor": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 128,
                              "attention_factor": 1.5},
}


def hf_config(scaling: dict | None, theta: float = THETA) -> LlamaConfig:
    """The same RoPE described to transformers: NTK scales from max_position_embeddings there."""
    params = {"rope_type": "default", "rope_theta": theta, **(scaling or {})}
    max_positions = MAX_LEN
    if params["rope_type"] == "dynamic":
        max_positions = params.pop("original_max_position_embeddings", MAX_LEN)
    return LlamaConfig(hidden_size=HEAD_DIM * 4, num_attention_heads=4, head_dim=HEAD_DIM,
                       max_position_embeddings=max_positions, rope_parameters=params)


@pytest.mark.parametrize("name", list(SCALINGS))
def test_inverse_frequencies_match_transformers(name):
    scaling = SCALINGS[name]
    fn = ROPE_INIT_FUNCTIONS[scaling["rope_type"]]
    for seq_len in (None, 64, 128, 300, 1000):
        ours, our_scale = rope.inv_frequencies(HEAD_DIM, THETA, scaling, MAX_LEN, seq_len)
        theirs, their_scale = fn(hf_config(scaling), "cpu", seq_len=seq_len)
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=0)
        assert our_scale == pytest.approx(their_scale, rel=1e-12)


def test_plain_rope_matches_transformers_default():
    ours, scale = rope.inv_frequencies(HEAD_DIM, 500000.0, None, MAX_LEN)
    theirs, their_scale = LlamaRotaryEmbedding.compute_default_rope_parameters(hf_config(None, 500000.0))
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=0)
    assert scale == their_scale == 1.0


@pytest.mark.parametrize("name", [None, *SCALINGS])
def test_rotated_queries_match_transformers(name):
    """cos/sin tables and the rotation itself, past the original context (where NTK kicks in)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    scaling = SCALINGS.get(name)
    seq_len = 300
    emb = LlamaRotaryEmbedding(hf_config(scaling))
    x = torch.randn(2, 4, seq_len, HEAD_DIM)
    cos_hf, sin_hf = emb(x, torch.arange(seq_len)[None])
    inv_freq, scale = rope.inv_frequencies(HEAD_DIM, THETA, scaling, MAX_LEN, seq_len)
    if rope.rope_type(scaling) == "dynamic" and seq_len <= rope.original_max_len(scaling, MAX_LEN):
        inv_freq, scale = rope.inv_frequencies(HEAD_DIM, THETA, None, MAX_LEN)
    cos, sin = rope.cos_sin(inv_freq, scale, seq_len)
    # HF's NTK base comes from a float32 tensor, ours from a Python float: ~1e-7 relative.
    torch.testing.assert_close(cos, cos_hf[0], rtol=0, atol=2e-5)
    torch.testing.assert_close(sin, sin_hf[0], rtol=0, atol=2e-5)
    q_hf, _ = apply_rotary_pos_emb(x, x, cos_hf, sin_hf)
    torch.testing.assert_close(rope.apply_rotary(x, cos, sin), q_hf, rtol=0, atol=1e-4)


def test_unknown_rope_type_is_rejected():
    with pytest.raises(ValueError, match="rope_type"):
        rope.inv_frequencies(HEAD_DIM, THETA, {"rope_type": "longrope", "factor": 2.0}, MAX_LEN)
