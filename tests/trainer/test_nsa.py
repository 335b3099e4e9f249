"""trainer/model/nsa.py: with every block selected and a full window NSA's branches are full causal
attention, selection is causal and shared per KV head, the model trains, FLOPs fall below full."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from tests.trainer.tiny_lm import one_thread
from trainer.model.nsa import NSAConfig, attention_flops
from trainer.model.transformer import Transformer, cross_entropy, model_config

pytestmark = pytest.mark.usefixtures(one_thread.__name__)
T = 40


def _layer(nsa: dict):
    torch.manual_seed(0)
    model = Transformer(model_config("tiny", {"vocab_size": 50, "attention": "nsa", "nsa": nsa}))
    return model, model.layers[0].attention


def _qkv(attn, x):
    B = x.shape[0]
    q = attn.wq(x).view(B, T, attn.n_heads, attn.head_dim).transpose(1, 2)
    k = attn.wk(x).view(B, T, attn.n_kv_heads, attn.head_dim).transpose(1, 2)
    v = attn.wv(x).view(B, T, attn.n_kv_heads, attn.head_dim).transpose(1, 2)
    return q, k, v


def test_every_block_selected_and_a_full_window_is_full_causal_attention():
    model, attn = _layer({"block": 8, "stride": 4, "select_block": 8, "top_n": 64, "window": 1024})
    x = torch.randn(2, T, model.cfg.dim)
    q, k, v = _qkv(attn, x)
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    _, selected, window = attn.branches(q, k, v)
    torch.testing.assert_close(selected, full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(window, full, atol=1e-5, rtol=1e-5)
    # the whole layer, gates closed on the compressed branch and split over the other two: full attention
    with torch.no_grad():
        attn.gate.weight.zero_()
        attn.gate.bias.copy_(torch.tensor([-1e4] * 4 + [0.0] * 8))  # sigmoid: 0 compressed, 1/2 + 1/2
    cos, sin = model.rotary_tables(T, x.device)
    from trainer.model.transformer import Attention

    dense = Attention(dataclasses.replace(model.cfg, attention="sdpa"))
    dense.load_state_dict({n: p for n, p in attn.state_dict().items() if n.split(".")[0] in ("wq", "wk", "wv", "wo")})
    torch.testing.assert_close(attn(x, cos, sin), dense(x, cos, sin), atol=1e-5, rtol=1e-5)


def test_selection_is_sparse_causal_and_shared_by_the_gqa_group():
    model, attn = _layer({"block": 8, "stride": 4, "select_block": 8, "top_n": 3, "window": 4})
    x = torch.randn(1, T, model.cfg.dim, requires_grad=True)
    q, k, v = _qkv(attn, x)
    cmp_out, selected, window = attn.branches(q, k, v)
    # a query's outputs depend on no later token: perturb the last token, earlier rows do not move
    x2 = x.detach().clone()
    x2[:, -1] += 1.0
    outs2 = attn.branches(*_qkv(attn, x2))
    for a, b in zip((cmp_out, selected, window), outs2, strict=True):
        torch.testing.assert_close(a[:, :, :-1], b[:, :, :-1])
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert not torch.allclose(selected[:, :, -1], full[:, :, -1], atol=1e-4)  # 3 of 5 blocks: not full
    # heads 0 and 1 share KV head 0, so they attend to the same selected tokens: with equal queries, equal outputs
    q_same = q.clone()
    q_same[:, 1] = q_same[:, 0]
    _, sel_same, _ = attn.branches(q_same, k, v)
    torch.testing.assert_close(sel_same[:, 0], sel_same[:, 1])


def test_nsa_trains_on_the_tiny_preset():
    model, _ = _layer({"block": 8, "stride": 4, "select_block": 8, "top_n": 2, "window": 8})
    gen = torch.Generator().manual_seed(0)
    data = torch.arange(T + 1).repeat(8, 1) % 7 + torch.randint(0, 3, (8, 1), generator=gen)  # periodic
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = cross_entropy(model(data[:, :-1]), data[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert model.layers[0].attention.compress_k[0].weight.grad.abs().sum() > 0  # the compressed branch learns


def test_attention_flops_fall_below_full_at_long_context():
    cfg = NSAConfig()
    short, long = (attention_flops(t, 9, 64, 3, cfg) / attention_flops(t, 9, 64, 3) for t in (512, 65536))
    assert long < 0.2 and short > 1.0  # three branches cost more than one at 512 tokens; ~9x less at 64k
    with pytest.raises(ValueError):
        NSAConfig(block=8, stride=16)


def test_export_refuses_nsa():
    from trainer.model.checkpoint import CheckpointError
    from trainer.model.export import to_hf_state_dict

    model, _ = _layer({})
    with pytest.raises(CheckpointError, match="NSA"):
        to_hf_state_dict(model.state_dict(), model.cfg)
