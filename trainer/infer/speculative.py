"""Speculative decoding (Leviathan et al. 2023, arXiv:2211.17192; Chen et al. 2023, arXiv:2302.01318).

A small draft model proposes `k` tokens one at a time; the target scores all of them in one
forward pass. Draft token x with draft probability q(x) and target probability p(x) is accepted
with probability min(1, p(x)/q(x)); at the first rejection a token is drawn from the residual
norm(max(0, p - q)), and when all k are accepted one more comes from the target's next
distribution. Every emitted token is then distributed exactly as the target's own sampling
distribution (same temperature / top-k / top-p), so quality is the target's; speed depends on the
acceptance rate. Greedy (temperature 0) is the special case p, q one-hot: a draft token is kept
iff it is the target's argmax, so the output is greedy target decoding token for token.

Sequences are decoded one at a time (each accepts a different number of tokens per round);
speculation is a latency tool, batch 1 is its use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from trainer.infer.generate import Decoder, next_token_probs, sample


@dataclass
class SpeculativeOutput:
    tokens: list[list[int]]
    finished: list[bool]
    proposed: int  # draft tokens proposed
    accepted: int  # draft tokens the target accepted
    target_calls: int  # target forward passes (plain decoding needs one per token)

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.proposed if self.proposed else 0.0


def accept_drafts(p: torch.Tensor, q: torch.Tensor, drafts: list[int],
                  generator: torch.Generator | None = None) -> tuple[int, int]:
    """The rejection rule for one round: p (k+1, V) target and q (k, V) draft distributions at the
    k draft positions (p has one more, after the last draft). Returns (accepted count n, the token
    that follows the n accepted drafts: a residual sample at the rejection, or a bonus from p[k])."""
    for j, x in enumerate(drafts):
        px, qx = float(p[j, x]), float(q[j, x])
        if qx > 0 and (px >= qx or float(torch.rand((), generator=generator, device=p.device)) < px / qx):
            continue
        residual = (p[j] - q[j]).clamp(min=0)
        mass = float(residual.sum())
        dist = residual / mass if mass > 0 else p[j]  # p == q: nothing to correct
        return j, int(sample(dist[None], generator)[0])
    return len(drafts), int(sample(p[len(drafts)][None], generator)[0])


class VocabularyMismatch(ValueError):
    """The draft's token ids do not mean the target's tokens: its proposals would be other text."""


def require_shared_vocabulary(target_vocab: dict[str, int], draft_vocab: dict[str, int]) -> None:
    """Refuse a draft whose tokenizer differs from the target's (token -> id maps, e.g.
    `tokenizers.Tokenizer.get_vocab()`): the same id must be the same token on both sides."""
    if target_vocab == draft_vocab:
        return
    by_id = {i: t for t, i in draft_vocab.items()}
    diff = next(((i, t) for t, i in sorted(target_vocab.items(), key=lambda x: x[1]) if by_id.get(i) != t), None)
    where = (f"id {diff[0]} is {diff[1]!r} for the target, {by_id.get(diff[0])!r} for the draft" if diff
             else f"the draft has {len(draft_vocab) - len(target_vocab)} extra tokens")
    raise VocabularyMismatch(f"draft tokenizer differs from the target's ({len(draft_vocab):,} vs "
                             f"{len(target_vocab):,} tokens; {where}): speculative decoding needs one vocabulary")


@torch.no_grad()
def speculative_generate(target: torch.nn.Module, draft: torch.nn.Module, prompt_ids: list[list[int]],
                         max_new_tokens: int, k: int = 4, temperature: float = 0.0, top_k: int = 0,
                         top_p: float = 1.0, stop_ids: Iterable[int] = (),
                         generator: torch.Generator | None = None) -> SpeculativeOutput:
    """Continue each prompt by up to `max_new_tokens` tokens, `k` draft tokens per target pass."""
    if target.cfg.vocab_size != draft.cfg.vocab_size:
        raise VocabularyMismatch(f"draft vocabulary size {draft.cfg.vocab_size:,} != target's "
                                 f"{target.cfg.vocab_size:,}: speculative decoding needs one tokenizer")
    states = (target.training, draft.training)
    target.eval()
    draft.eval()
    stops = set(int(s) for s in stop_ids)
    out = SpeculativeOutput([], [], 0, 0, 0)
    try:
        for prompt in prompt_ids:
            tokens, done = _one_sequence(target, draft, prompt, max_new_tokens, k, (temperature, top_k, top_p),
                                         stops, generator, out)
            out.tokens.append(tokens)
            out.finished.append(done)
    finally:
        target.train(states[0])
        draft.train(states[1])
    return out


def _one_sequence(target, draft, prompt: list[int], max_new: int, k: int, sampling: tuple, stops: set[int],
                  generator, stats: SpeculativeOutput) -> tuple[list[int], bool]:
    capacity = max_new + k + 1  # the target scores up to k drafts past the last kept token
    tgt, dft = Decoder(target, [prompt], capacity), Decoder(draft, [prompt], capacity)
    new: list[int] = []
    while len(new) < max_new:
        base = tgt.length  # every kept token; the last one not yet run through either model
        n_draft = min(k, max_new - len(new) - 1)  # the round adds n_draft + 1 tokens at most
        drafts, qs = [], []
        for _ in range(n_draft):
            q = next_token_probs(dft.logits(keep=1)[0, -1:], *sampling)
            x = int(sample(q, generator)[0])
            drafts.append(x)
            qs.append(q[0])
            dft.append(torch.tensor([[x]]))
        if drafts:
            tgt.append(torch.tensor([drafts]))
        p = next_token_probs(tgt.logits(keep=n_draft + 1)[0, -(n_draft + 1):], *sampling)
        stats.target_calls += 1
        q = torch.stack(qs) if qs else p[:0]
        n, extra = accept_drafts(p, q, drafts, generator)
        stats.proposed += n_draft
        stats.accepted += n
        for t in drafts[:n] + [extra]:
            new.append(t)
            if t in stops:
                return new, True
        for dec in (tgt, dft):
            dec.rollback(base + n)
            dec.append(torch.tensor([[extra]]))
    return new[:max_new], False
