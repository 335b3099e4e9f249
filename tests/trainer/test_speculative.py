"""trainer/infer/speculative.py: greedy speculative decoding is greedy target decoding; the rejection rule
keeps the target distribution exactly."""

import pytest
import torch

from tests.trainer.test_generate import PROMPTS
from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.infer.generate import generate
from trainer.infer.speculative import accept_drafts, speculative_generate

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


def test_greedy_speculative_equals_greedy_target(token_dir):
    target = trained_model(token_dir)
    draft = trained_model(token_dir, dim=32, n_layers=1, steps=30)
    plain = generate(target, PROMPTS, max_new_tokens=20)
    spec = speculative_generate(target, draft, PROMPTS, max_new_tokens=20, k=4)
    assert spec.tokens == plain.tokens
    assert spec.proposed > 0 and 0 < spec.acceptance_rate <= 1
    assert spec.target_calls < 3 * 20  # fewer target passes than one per token whenever a draft is kept


def test_a_perfect_draft_is_always_accepted(token_dir):
    target = trained_model(token_dir)
    spec = speculative_generate(target, trained_model(token_dir), PROMPTS[:1], max_new_tokens=16, k=3)
    assert spec.acceptance_rate == 1.0
    assert spec.target_calls == 4  # rounds of 3 drafts + 1 bonus token: 16 tokens in 4 passes


def test_stop_ids_and_sampling_run(token_dir):
    target, draft = trained_model(token_dir), trained_model(token_dir, dim=32, n_layers=1, steps=30)
    greedy = generate(target, PROMPTS[:1], max_new_tokens=12).tokens[0]
    spec = speculative_generate(target, draft, PROMPTS[:1], 12, k=4, stop_ids=[greedy[5]])
    assert spec.finished == [True] and spec.tokens[0] == greedy[: greedy.index(greedy[5]) + 1]
    sampled = speculative_generate(target, draft, PROMPTS, 10, k=3, temperature=1.0, top_k=20,
                                   generator=torch.Generator().manual_seed(0))
    assert [len(t) for t in sampled.tokens] == [10, 10, 10]


def test_rejection_rule_reproduces_the_target_distribution():
    """Draw x ~ q, apply the rule: the emitted token is distributed as p (Leviathan et al., thm 1)."""
    p = torch.tensor([[0.5, 0.2, 0.2, 0.1, 0.0], [0.2, 0.2, 0.2, 0.2, 0.2]])
    q = torch.tensor([[0.1, 0.1, 0.3, 0.2, 0.3]])
    gen = torch.Generator().manual_seed(0)
    counts = torch.zeros(5)
    n = 4000
    for _ in range(n):
        x = int(torch.multinomial(q[0], 1, generator=gen))
        accepted, extra = accept_drafts(p, q, [x], gen)
        counts[x if accepted else extra] += 1
    freq = counts / n
    assert (freq - p[0]).abs().max() < 0.025, freq  # 3 sigma at n=4000 is ~0.024 for p=0.5
    assert counts[4] == 0  # a token the target never emits is never emitted


def test_a_draft_with_another_vocabulary_size_is_refused(token_dir):
    from trainer.infer.speculative import VocabularyMismatch
    from trainer.model.transformer import ModelConfig, Transformer

    target = trained_model(token_dir)
    other = Transformer(ModelConfig(vocab_size=target.cfg.vocab_size + 7, dim=32, n_layers=1, n_heads=4))
    with pytest.raises(VocabularyMismatch, match="draft vocabulary size .* != target's .*one tokenizer"):
        speculative_generate(target, other, PROMPTS[:1], 4)


def test_a_draft_tokenizer_with_other_ids_is_refused():
    from trainer.infer.speculative import VocabularyMismatch, require_shared_vocabulary

    target = {"a": 0, "b": 1, "c": 2}
    require_shared_vocabulary(target, dict(target))  # the same vocabulary passes
    with pytest.raises(VocabularyMismatch, match="id 1 is 'b' for the target, 'c' for the draft"):
        require_shared_vocabulary(target, {"a": 0, "c": 1, "b": 2})  # same size, other ids
    with pytest.raises(VocabularyMismatch, match="extra tokens"):
        require_shared_vocabulary(target, {**target, "d": 3})
