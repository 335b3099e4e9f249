"""trainer/model/transformer.py: shapes, causality, GQA, presets, the kernels/ hook, FLOPs."""

import sys
import types

import pytest
import torch
import torch.nn.functional as F

from trainer.model.transformer import ModelConfig, Transformer, cross_entropy, flops_per_token, model_config


def tiny(**kw) -> ModelConfig:
    return model_config("tiny", {"vocab_size": 97, **kw})


def test_forward_shapes_and_a_finite_loss():
    torch.manual_seed(0)
    model = Transformer(tiny())
    tokens = torch.randint(0, 97, (3, 20))
    logits = model(tokens)
    assert logits.shape == (3, 20, 97)
    loss = cross_entropy(logits, torch.randint(0, 97, (3, 20)))
    # small init: close to uniform over the vocabulary at the start
    assert torch.isfinite(loss) and abs(loss.item() - torch.log(torch.tensor(97.0)).item()) < 0.5


@pytest.mark.parametrize("n_kv_heads", [4, 2, 1])
def test_attention_is_causal_for_mha_gqa_and_mqa(n_kv_heads):
    torch.manual_seed(0)
    model = Transformer(tiny(n_kv_heads=n_kv_heads)).eval()
    a = torch.randint(0, 97, (1, 16))
    b = a.clone()
    b[0, 10:] = (b[0, 10:] + 1) % 97  # change only the future
    with torch.no_grad():
        la, lb = model(a), model(b)
    torch.testing.assert_close(la[:, :10], lb[:, :10])
    assert not torch.allclose(la[:, 10:], lb[:, 10:])


def test_tied_embeddings_share_one_tensor():
    tied, untied = Transformer(tiny(tie_embeddings=True)), Transformer(tiny(tie_embeddings=False))
    assert tied.output.weight is tied.tok_embeddings.weight
    assert untied.num_params() - tied.num_params() == 97 * 64


def test_presets_have_their_advertised_sizes():
    with torch.device("meta"):
        m125 = Transformer(model_config("125m", {"vocab_size": 50257}))
        m1b = Transformer(model_config("1b", {"vocab_size": 32000}))
    assert 110e6 < m125.num_params() < 135e6
    assert 0.95e9 < m1b.num_params() < 1.15e9
    assert model_config("1b").n_kv_heads == 8  # GQA, as Llama 3.2 1B


def test_config_rejects_bad_shapes():
    with pytest.raises(ValueError, match="divide"):
        ModelConfig(vocab_size=10, dim=64, n_heads=4, n_kv_heads=3)
    with pytest.raises(ValueError, match="attention"):
        ModelConfig(vocab_size=10, attention="flash")
    with pytest.raises(ValueError, match="preset"):
        model_config("7b")


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = Transformer(tiny())
    ckpt = Transformer(tiny(gradient_checkpointing=True))
    ckpt.load_state_dict(plain.state_dict())
    tokens = torch.randint(0, 97, (2, 12))
    for m in (plain, ckpt):
        cross_entropy(m(tokens), tokens).backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), ckpt.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_kernels_hook_is_called_with_the_contract_layout(monkeypatch):
    """attention="triton"/"torch" calls kernels.attention(q, k, v, causal=True, impl=...) with
    q (B,H,T,D) and k/v (B,Hkv,T,D): GQA is left to kernels/. A stand-in module keeps this test
    independent of kernels/ itself."""
    calls = []

    def attention(q, k, v, causal, impl):
        calls.append((tuple(q.shape), tuple(k.shape), tuple(v.shape), causal, impl))
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)

    monkeypatch.setitem(sys.modules, "kernels", types.SimpleNamespace(attention=attention))
    torch.manual_seed(0)
    sdpa = Transformer(tiny(n_kv_heads=2))
    hooked = Transformer(tiny(n_kv_heads=2, attention="triton"))
    hooked.load_state_dict(sdpa.state_dict())
    tokens = torch.randint(0, 97, (2, 12))
    torch.testing.assert_close(hooked(tokens), sdpa(tokens))
    assert calls == [((2, 4, 12, 16), (2, 2, 12, 16), (2, 2, 12, 16), True, "triton")] * 2


def test_sdpa_path_never_imports_kernels(monkeypatch):
    monkeypatch.setitem(sys.modules, "kernels", None)  # any `import kernels` would now raise
    Transformer(tiny())(torch.randint(0, 97, (1, 8)))


def test_real_kernels_torch_reference_agrees_when_present():
    kernels = pytest.importorskip("kernels")
    if not hasattr(kernels, "attention"):
        pytest.skip("kernels.attention not available yet")
    torch.manual_seed(0)
    sdpa = Transformer(tiny(n_kv_heads=2)).eval()
    ref = Transformer(tiny(n_kv_heads=2, attention="torch")).eval()
    ref.load_state_dict(sdpa.state_dict())
    tokens = torch.randint(0, 97, (2, 16))
    with torch.no_grad():
        torch.testing.assert_close(ref(tokens), sdpa(tokens), rtol=1e-4, atol=1e-4)


def test_flops_per_token_is_6n_plus_attention():
    cfg = tiny()
    n = Transformer(cfg).num_params()
    assert flops_per_token(cfg, n, 64) == 6 * n + 12 * cfg.n_layers * 64 * cfg.dim
