"""trainer/infer/kv_eviction.py: a budget that holds everything equals the full cache, eviction keeps the
budget and what each policy promises, left padding stays invisible, bad budgets are refused."""

import pytest
import torch

from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.infer.generate import Decoder, generate
from trainer.infer.kv_eviction import (
    EvictingLayerKV,
    KVPolicy,
    KVPolicyError,
    kv_bytes_per_token,
    parse_policy,
)

PROMPTS = [[5, 17, 42, 8, 99, 3, 21, 9, 14, 30, 2, 77], [11, 4], [64, 2, 7, 150, 6, 31]]
POLICIES = ("streaming", "h2o", "snapkv")

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


@pytest.mark.parametrize("name", POLICIES)
def test_budget_of_whole_sequence_equals_full_cache(token_dir, name):
    model = trained_model(token_dir)
    full = generate(model, PROMPTS, max_new_tokens=16)
    budget = len(PROMPTS[0]) + 16  # the widest row's slots: nothing is ever evicted
    kept = generate(model, PROMPTS, max_new_tokens=16, kv_policy=KVPolicy(name, budget, sinks=0, window=4))
    assert kept.tokens == full.tokens
    torch.testing.assert_close(torch.tensor(kept.logprobs), torch.tensor(full.logprobs), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", POLICIES)
def test_eviction_holds_the_budget_and_padding_stays_invisible(token_dir, name):
    """Under a budget far below the sequence, each prompt decodes in the padded batch as it does alone."""
    model = trained_model(token_dir)
    policy = KVPolicy(name, budget=6, sinks=2 if name == "streaming" else 0, window=2)
    batched = generate(model, PROMPTS, max_new_tokens=10, kv_policy=policy)
    for i, prompt in enumerate(PROMPTS):
        assert generate(model, [prompt], max_new_tokens=10, kv_policy=policy).tokens[0] == batched.tokens[i]
    dec = Decoder(model, PROMPTS, 4, kv_policy=policy)
    dec.logits(keep=1)
    assert all(layer.kept() == 6 for layer in dec.cache.layers)
    assert dec.cache.nbytes() == 6 * len(PROMPTS) * kv_bytes_per_token(model.cfg)


def test_eviction_changes_the_output_of_a_small_budget(token_dir):
    """The budget is real: the tiny model's continuation differs once most of a long prompt is gone."""
    model = trained_model(token_dir)
    prompt = [[(7 * i) % 200 + 3 for i in range(40)]]
    full = generate(model, prompt, max_new_tokens=12)
    tight = generate(model, prompt, max_new_tokens=12, kv_policy=KVPolicy("streaming", 3, sinks=1))
    assert tight.logprobs != full.logprobs


def _layer_after(policy: KVPolicy, q: torch.Tensor, k: torch.Tensor) -> EvictingLayerKV:
    layer = EvictingLayerKV(policy)
    layer.attend(q, k, k.clone(), None)
    return layer


def test_streaming_keeps_sinks_and_the_recent_window():
    torch.manual_seed(0)
    q, k = torch.randn(1, 2, 20, 8), torch.randn(1, 1, 20, 8)
    layer = _layer_after(KVPolicy("streaming", 7, sinks=3), q, k)
    assert layer.slot[0, 0].tolist() == [0, 1, 2, 16, 17, 18, 19]


def test_h2o_and_snapkv_keep_the_key_every_query_attends_to():
    """Slot 5's key is aligned with every query: both policies keep it over older and newer keys."""
    torch.manual_seed(0)
    q = torch.randn(1, 2, 20, 8).abs()
    k = torch.randn(1, 1, 20, 8) * 0.1
    k[0, 0, 5] = 3.0
    for name in ("h2o", "snapkv"):
        layer = _layer_after(KVPolicy(name, 6, window=2), q, k)
        kept = layer.slot[0, 0].tolist()
        assert 5 in kept and kept[-2:] == [18, 19], (name, kept)


def test_snapkv_ranks_generated_tokens_above_the_prompt():
    torch.manual_seed(0)
    layer = EvictingLayerKV(KVPolicy("snapkv", 5, window=2))
    layer.attend(torch.randn(1, 2, 10, 8), torch.randn(1, 1, 10, 8), torch.randn(1, 1, 10, 8), None)
    for _ in range(3):
        layer.attend(torch.randn(1, 2, 1, 8), torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8), None)
    assert layer.slot[0, 0].tolist()[-3:] == [10, 11, 12]


@pytest.mark.parametrize("spec", ["h2o:3:2:2", "streaming:4:4", "snapkv:0", "lru:64", "h2o:x", "h2o"])
def test_bad_policies_are_refused(spec):
    with pytest.raises(KVPolicyError):
        parse_policy(spec)


def test_parse_policy():
    assert parse_policy("full") is None
    p = parse_policy("snapkv:256:0:16")
    assert (p.name, p.budget, p.sinks, p.window) == ("snapkv", 256, 0, 16)
    assert parse_policy("h2o:100").window == 50


def test_kv_eval_cli_reports_both_sides_and_refuses_a_budget_below_the_minimum(token_dir, tmp_path):
    import json

    from tests.trainer.tiny_lm import write_run_dir
    from trainer.cli import main

    run = write_run_dir(trained_model(token_dir), tmp_path / "run", token_dir / "tokenizer.json")
    out = tmp_path / "kv"
    common = ["kv-eval", "--model", str(run), "--out", str(out), "--tokens", str(token_dir),
              "--max-tokens", "48", "--max-docs", "2", "--chunk", "8"]
    assert main([*common, "--policy", "streaming:12:4"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["perplexity"]["policy"] != report["perplexity"]["full"]  # 48 tokens through a 12-token cache
    assert report["kv_bytes_per_sequence"]["policy"] * 4 == report["kv_bytes_per_sequence"]["full"]
    assert main([*common, "--policy", "h2o:64:0:64"]) == 2  # budget below sinks + window + 1
    assert main([*common, "--policy", "full"]) == 2
