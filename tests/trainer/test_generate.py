"""trainer/infer/generate.py and the KV cache in trainer/model/transformer.py: cached decoding equals recomputation,
padding is invisible, the training forward is unchanged, sampling honours its knobs."""

import pytest
import torch

from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.infer.generate import generate, next_token_probs
from trainer.infer.kv_cache import KVCache

PROMPTS = [[5, 17, 42, 8, 99, 3, 21], [11], [64, 2, 7, 150]]  # different lengths in one batch

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


def test_greedy_with_kv_cache_equals_recompute_token_for_token(token_dir):
    model = trained_model(token_dir)
    cached = generate(model, PROMPTS, max_new_tokens=24)
    recomputed = generate(model, PROMPTS, max_new_tokens=24, use_cache=False)
    assert cached.tokens == recomputed.tokens
    assert all(len(t) == 24 for t in cached.tokens)
    torch.testing.assert_close(torch.tensor(cached.logprobs), torch.tensor(recomputed.logprobs),
                               atol=1e-4, rtol=0)


def test_left_padding_is_invisible(token_dir):
    """Each prompt decodes in the padded batch exactly as it does alone."""
    model = trained_model(token_dir)
    batched = generate(model, PROMPTS, max_new_tokens=12)
    for i, prompt in enumerate(PROMPTS):
        assert generate(model, [prompt], max_new_tokens=12).tokens[0] == batched.tokens[i]


def test_cached_forward_matches_full_forward_logits(token_dir):
    model = trained_model(token_dir)
    tokens = torch.randint(0, model.cfg.vocab_size, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(tokens)  # the training path: causal SDPA, no cache
        cache = KVCache(model.cfg, 2, 20)
        parts = [model(tokens[:, :13], cache=cache)] + [model(tokens[:, t:t + 1], cache=cache) for t in range(13, 20)]
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-4, rtol=1e-4)


def test_stop_ids_end_a_sequence(token_dir):
    model = trained_model(token_dir)
    free = generate(model, PROMPTS, max_new_tokens=10)
    stop = free.tokens[0][3]  # the 4th greedy token of the first prompt
    out = generate(model, PROMPTS, max_new_tokens=10, stop_ids=[stop])
    assert out.finished[0] and out.tokens[0] == free.tokens[0][: free.tokens[0].index(stop) + 1]
    for i in range(1, len(PROMPTS)):
        if stop not in free.tokens[i]:
            assert not out.finished[i] and out.tokens[i] == free.tokens[i]


def test_sampling_is_reproducible_and_filters():
    logits = torch.tensor([[3.0, 2.0, 1.0, 0.0, -1.0]])
    assert next_token_probs(logits).tolist() == [[1.0, 0.0, 0.0, 0.0, 0.0]]
    top2 = next_token_probs(logits, temperature=1.0, top_k=2)
    assert (top2[0, 2:] == 0).all() and abs(float(top2.sum()) - 1) < 1e-6
    nucleus = next_token_probs(logits, temperature=1.0, top_p=0.7)  # p = .64, .24, ...: keeps two
    assert (nucleus[0, :2] > 0).all() and (nucleus[0, 2:] == 0).all()


def test_temperature_sampling_reproducible_with_generator(token_dir):
    model = trained_model(token_dir)

    def run(seed):
        return generate(model, PROMPTS, 16, temperature=1.0, top_k=50, generator=torch.Generator().manual_seed(seed))

    a, b = run(3), run(3)
    assert a.tokens == b.tokens
    assert all(lp <= 0 for seq in a.logprobs for lp in seq)
