"""trainer/model/moe.py: Mixtral routing, the Switch aux loss, capacity and drops, and the Mixtral export."""

import json

import pytest
import torch
import torch.nn.functional as F

from trainer.model import moe
from trainer.model.transformer import Transformer, cross_entropy, model_config

VOCAB = 96


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread; on a loaded 2-core machine two spin against each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_moe(**overrides) -> Transformer:
    torch.manual_seed(0)
    return Transformer(model_config("tiny", {"vocab_size": VOCAB, "dim": 32, "n_experts": 4, **overrides}))


def test_dense_default_has_no_experts():
    model = Transformer(model_config("tiny", {"vocab_size": VOCAB}))
    assert not moe.moe_layers(model) and moe.aux_loss(model) is None
    partial = tiny_moe(moe_layers=[1])
    assert [type(b.feed_forward).__name__ for b in partial.layers] == ["FeedForward", "MoE"]


def test_topk_weights_are_a_softmax_over_the_topk_logits():
    layer = moe.MoE(dim=8, ffn_dim=16, n_experts=5, top_k=2).eval()
    x = torch.randn(7, 8)
    logits = layer.gate(x)
    top_logits, chosen = logits.topk(2, dim=-1)
    expected = sum(F.softmax(top_logits, -1)[:, j, None] * torch.stack(
        [layer.experts[int(e)](x[t]) for t, e in enumerate(chosen[:, j])]) for j in range(2))
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_switch_aux_loss_is_one_when_balanced_and_n_experts_when_collapsed():
    n, e = 64, 4
    uniform = torch.full((n, e), 1 / e)
    balanced = torch.arange(n * 2).reshape(n, 2) % e
    assert moe.switch_aux_loss(uniform, balanced, e).item() == pytest.approx(1.0)
    collapsed = F.one_hot(torch.zeros(n, dtype=torch.long), e).float()
    assert moe.switch_aux_loss(collapsed, torch.zeros(n, 1, dtype=torch.long), e).item() == pytest.approx(e)


def test_capacity_places_first_choices_before_second_choices():
    # Three tokens, top-2, capacity 2: expert 0 is token 2's first choice and tokens 0/1's second.
    chosen = torch.tensor([[1, 0], [2, 0], [0, 1]])
    keep = moe.capacity_keep(chosen, n_experts=3, capacity=2)
    # expert 0: token 2 (first choice) then token 0 (second); token 1's second choice is dropped.
    # expert 1: tokens 0 (first) and 2 (second) fit.
    assert keep.tolist() == [[True, True], [True, False], [True, True]]


def test_dropped_tokens_pass_through_the_residual_unchanged():
    model = tiny_moe(moe_capacity_factor=0.05).train()
    block = model.layers[0]
    x = torch.randn(2, 24, 32)
    cos, sin = model.rotary_tables(24, x.device)
    with torch.no_grad():
        h = x + block.attention(block.attention_norm(x), cos, sin)
        out = block(x, cos, sin)
    stats = block.feed_forward.last_stats
    capacity = block.feed_forward.capacity(48)
    assert capacity == 2 and int(stats["dropped"]) > 0 and int(stats["tokens_dropped"]) > 0
    per_expert_kept = int(stats["assigned"].clamp(max=capacity).sum())
    assert int(stats["dropped"]) == 48 * 2 - per_expert_kept
    unchanged = (out == h).all(-1).flatten()  # rows the MoE left at exactly zero
    assert int(unchanged.sum()) == int(stats["tokens_dropped"])
    with torch.no_grad():  # evaluation routes dropless
        block.eval()(x, cos, sin)
    assert int(block.feed_forward.last_stats["dropped"]) == 0


def test_aux_loss_balances_a_collapsed_router():
    """Start with a router that sends nearly every token to expert 0; the aux loss must pull it back."""
    def run(coef: float) -> tuple[float, float]:
        model = tiny_moe(moe_layers=[0])
        router = model.layers[0].feed_forward.gate
        with torch.no_grad():  # a shared direction in every embedding, which the gate maps to expert 0
            direction = torch.randn(32)
            model.tok_embeddings.weight.add_(direction)
            router.weight.zero_()
            router.weight[0] = 0.6 * direction / direction.norm()
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        torch.manual_seed(1)
        data = torch.randint(0, VOCAB, (8, 33))
        auxes = []
        for _ in range(30):
            loss = cross_entropy(model(data[:, :-1]), data[:, 1:])
            aux = moe.aux_loss(model)
            auxes.append(aux.item())
            opt.zero_grad()
            (loss + coef * aux).backward()
            opt.step()
        return auxes[0], auxes[-1]

    start, end = run(coef=0.5)
    _, end_without = run(coef=0.0)
    assert start > 1.8  # collapsed: expert 0 is every token's first choice (2.0 = n_experts / top_k)
    assert end < 1.3 < end_without


@pytest.mark.parametrize("overrides", [
    {"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}},
    {"moe_layers": [1], "moe_top_k": 1, "tie_embeddings": False, "n_kv_heads": 4},
], ids=["all-layers-yarn-gqa", "one-moe-layer-top1-untied"])
def test_mixtral_export_logits_match_transformers(overrides, token_dir, tmp_path):
    transformers = pytest.importorskip("transformers")
    from trainer.model.export import write_hf_folder

    vocab = json.loads((token_dir / "index.json").read_text())["vocab_size"]
    torch.manual_seed(0)
    cfg = model_config("tiny", {"vocab_size": vocab, "n_experts": 4, **overrides})
    ours = Transformer(cfg).eval()
    with torch.no_grad():  # confident routers and norms away from 1, so a swapped tensor would show
        for name, p in ours.named_parameters():
            if name.endswith("gate.weight"):
                p.mul_(50)
            if name.endswith("norm.weight"):
                p.add_(torch.rand_like(p))
    out = write_hf_folder(ours.state_dict(), cfg, tmp_path / "hf", token_dir / "tokenizer.json")
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["MixtralForCausalLM"] and config["num_local_experts"] == 4
    hf = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert type(hf).__name__ == "MixtralForCausalLM"
    tokens = torch.randint(0, vocab, (2, 60))
    with torch.no_grad():
        assert (hf(tokens).logits - ours(tokens)).abs().max().item() <= 1e-4
