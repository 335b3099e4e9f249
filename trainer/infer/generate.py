"""Batched autoregressive generation: prefill, then one-token decode steps over a KV cache.

    out = generate(model, [[5, 9, 2], [7]], max_new_tokens=32, temperature=0.8, top_p=0.95,
                   stop_ids=[eos_id], generator=torch.Generator().manual_seed(0))
    out.tokens[i], out.logprobs[i], out.finished[i]

Prompts of different lengths are left-padded into one batch; pads are masked as keys and RoPE
positions count real tokens only (trainer/infer/kv_cache.py), so each sequence decodes exactly as it
would alone. `use_cache=False` recomputes the whole sequence each step (the baseline the KV cache
is measured against, and what the cache must agree with). Works on any `Transformer`, quantized
ones included (trainer/quant/quantize.py swaps its linears in place).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from trainer.infer.kv_cache import KVCache, attention_mask, left_pad, positions_from_valid


@dataclass
class GenerationOutput:
    tokens: list[list[int]]  # new tokens per sequence; a stop token that ended it is included
    logprobs: list[list[float]]  # log p(token) under the model's raw logits (temperature 1, unfiltered)
    finished: list[bool]  # True: ended by a stop token; False: ran into max_new_tokens


def next_token_probs(logits: torch.Tensor, temperature: float = 0.0, top_k: int = 0,
                     top_p: float = 1.0) -> torch.Tensor:
    """The sampling distribution (B, V) for last-position logits (B, V): one-hot argmax when
    temperature is 0 (greedy), else softmax(logits / T) restricted to the top-k tokens and to the
    smallest set whose mass reaches top_p (nucleus sampling, Holtzman et al. 2019), renormalised."""
    logits = logits.float()
    if temperature <= 0:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
    logits = logits / temperature
    if 0 < top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        sorted_probs = sorted_logits.softmax(-1)
        # drop a token when the mass before it already reaches top_p (the top token always stays)
        drop = (sorted_probs.cumsum(-1) - sorted_probs) >= top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits.softmax(-1)


def sample(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row of `probs` (B, V); argmax when a row is one-hot (greedy stays exact)."""
    greedy = probs.max(-1).values >= 1.0
    if bool(greedy.all()):
        return probs.argmax(-1)
    drawn = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return torch.where(greedy, probs.argmax(-1), drawn)


def model_device_dtype(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    w = model.tok_embeddings.weight
    return w.device, w.dtype


class Decoder:
    """One batch's decoding state: the token buffer, which slots are real, the cache (if any).

    `step(new_tokens)` feeds tokens not yet seen by the model and returns the logits of every fed
    position; speculative decoding (trainer/infer/speculative.py) feeds several at once and rolls back."""

    def __init__(self, model: torch.nn.Module, prompts: list[list[int]], max_new_tokens: int,
                 use_cache: bool = True, pad_id: int = 0, kv_policy=None):
        device, dtype = model_device_dtype(model)
        tokens, valid = left_pad(prompts, pad_id)
        self.model, self.use_cache = model, use_cache
        self.batch, self.prompt_width = tokens.shape
        capacity = self.prompt_width + max_new_tokens
        self.seq = torch.full((self.batch, capacity), pad_id, dtype=torch.long, device=device)
        self.seq[:, : self.prompt_width] = tokens.to(device)
        self.valid = torch.ones((self.batch, capacity), dtype=torch.bool, device=device)
        self.valid[:, : self.prompt_width] = valid.to(device)
        self.positions = positions_from_valid(self.valid)
        self.length = self.prompt_width  # slots filled
        self.seen = 0  # slots the model has processed (cached)
        self.cache = None
        if use_cache:  # kv_policy: a token budget, trainer/infer/kv_eviction.py
            self.cache = (kv_policy.make_cache(model.cfg) if kv_policy is not None
                          else KVCache(model.cfg, self.batch, capacity, dtype, device))

    def append(self, tokens: torch.Tensor) -> None:
        """Write (B, n) tokens after the filled slots (not yet run through the model)."""
        n = tokens.shape[1]
        self.seq[:, self.length : self.length + n] = tokens
        self.length += n

    def logits(self, keep: int = 0) -> torch.Tensor:
        """Logits (B, n, V) for the n slots filled since the last call, each predicting the next; with
        `keep` > 0 only the last `keep` of them (the head then skips the rest of a prompt)."""
        start = self.seen if self.use_cache else 0
        end = self.length
        mask = attention_mask(self.valid[:, :end], end - start)
        out = self.model(self.seq[:, start:end], cache=self.cache, positions=self.positions[:, start:end],
                         mask=mask, keep_last=keep)
        fresh = end - self.seen
        self.seen = end
        return out[:, -min(fresh, keep or fresh):]

    def rollback(self, length: int) -> None:
        """Forget slots from `length` on (filled and processed)."""
        self.length = min(self.length, length)
        self.seen = min(self.seen, length)
        if self.cache is not None:
            self.cache.truncate(length)


@torch.no_grad()
def generate(model: torch.nn.Module, prompt_ids: list[list[int]], max_new_tokens: int,
             temperature: float = 0.0, top_k: int = 0, top_p: float = 1.0, stop_ids: Iterable[int] = (),
             generator: torch.Generator | None = None, use_cache: bool = True,
             pad_id: int = 0, kv_policy=None) -> GenerationOutput:
    """Continue each prompt by up to `max_new_tokens` tokens (see the module docstring)."""
    was_training = model.training
    model.eval()
    stops = set(int(s) for s in stop_ids)
    dec = Decoder(model, prompt_ids, max_new_tokens, use_cache, pad_id, kv_policy)
    b = dec.batch
    tokens: list[list[int]] = [[] for _ in range(b)]
    logprobs: list[list[float]] = [[] for _ in range(b)]
    finished = [False] * b
    try:
        for _ in range(max_new_tokens):
            last = dec.logits(keep=1)[:, -1].float()
            nxt = sample(next_token_probs(last, temperature, top_k, top_p), generator)
            lp = last.log_softmax(-1).gather(-1, nxt[:, None]).squeeze(-1)
            for i, (t, p) in enumerate(zip(nxt.tolist(), lp.tolist(), strict=True)):
                if not finished[i]:
                    tokens[i].append(t)
                    logprobs[i].append(p)
                    finished[i] = t in stops
            if all(finished):
                break
            dec.append(nxt[:, None])
    finally:
        model.train(was_training)
    return GenerationOutput(tokens, logprobs, finished)


__all__ = ["GenerationOutput", "Decoder", "generate", "next_token_probs", "sample"]
