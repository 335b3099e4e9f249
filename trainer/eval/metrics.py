"""What trainer/eval/evaluate.py measures on one model: token-level perplexity on the val shards,
exact match on held-out synthetic SFT/RL items, decode speed and peak memory.

"token_perplexity" is exp(mean next-token cross-entropy) over the tokenizer's tokens, on
non-overlapping windows of the val split (each token scored once, with at most `seq_len` tokens of
context). It is not word perplexity: it depends on the tokenizer, so compare it only between models
sharing one (every quantized variant of a model does).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from trainer.infer.generate import generate
from trainer.train.data import PackedWindows, TokenShards

METRIC = "token_perplexity"
IM_END = "<|im_end|>"
EOS = "<|endoftext|>"


@torch.no_grad()
def token_perplexity(model, shards: TokenShards, seq_len: int, max_windows: int = 0, batch: int = 8) -> float:
    windows = PackedWindows(shards.split("val"), seq_len)
    n = len(windows) if max_windows <= 0 else min(max_windows, len(windows))
    if n == 0:
        raise ValueError(f"{shards.root}: the val split holds no window of {seq_len + 1} tokens")
    device = model.tok_embeddings.weight.device
    nll, count = 0.0, 0
    for start in range(0, n, batch):
        x, y = windows.batch(range(start, min(start + batch, n)))
        logits = model(x.to(device)).float()
        nll += F.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(), reduction="sum").item()
        count += y.numel()
    return math.exp(nll / count)


@dataclass
class HeldOutItem:
    id: str
    kind: str  # "sft" | "rl"
    prompt: str
    answer: str  # SFT: the reference completion; RL: the record's answer
    record: dict


def held_out_items(tokens_dir: str | Path, max_items: int = 0) -> list[HeldOutItem]:
    """SFT and RL records the tokenize stage put in the val split (their "split", decided from their
    source documents: pipeline/splits.py), so neither SFT nor GRPO trained on them. A record without a
    split cannot be shown to be held out and is not scored."""
    root = Path(tokens_dir)
    index = json.loads((root / "index.json").read_text())
    items: list[HeldOutItem] = []
    sft = root / index.get("sft_jsonl", "sft.jsonl")
    for rec in _jsonl(sft):
        if rec.get("split") == "val":
            answer = rec["completion"].removesuffix("\n").removesuffix(IM_END)
            items.append(HeldOutItem(rec["id"], "sft", rec["prompt"], answer, rec))
    for rec in _jsonl(root / index.get("rl", "rl.jsonl")):
        if rec.get("split") == "val":
            items.append(HeldOutItem(rec["id"], "rl", rec["prompt_text"], str(rec["answer"]), rec))
    return items[:max_items] if max_items > 0 else items


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_correct(item: HeldOutItem, completion: str) -> bool:
    """RL: the record's checker (trainer/eval/rewards.py, the synth checkers' rules); SFT: the completion
    equals the reference after stripping whitespace."""
    if item.kind == "rl":
        try:
            from trainer.eval.rewards import reward
        except ImportError:  # before GRPO's rewards module lands: plain exact match of the answer
            return completion.strip() == item.answer.strip()
        return reward(item.record, completion) == 1.0
    return completion.strip() == item.answer.strip()


@torch.no_grad()
def exact_match(model, tokenizer, items: list[HeldOutItem], max_new_tokens: int = 48,
                batch: int = 16) -> float | None:
    """Share of items whose greedy completion is right; None when there is no item."""
    if not items:
        return None
    stops = [i for i in (tokenizer.token_to_id(IM_END), tokenizer.token_to_id(EOS)) if i is not None]
    budget = model.cfg.max_seq_len - max_new_tokens  # prompts keep their last tokens when too long
    correct = 0
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        prompts = [tokenizer.encode(it.prompt, add_special_tokens=False).ids[-max(budget, 1):] for it in chunk]
        out = generate(model, prompts, max_new_tokens, stop_ids=stops)
        for it, toks, done in zip(chunk, out.tokens, out.finished, strict=True):
            text = tokenizer.decode(toks[:-1] if done else toks, skip_special_tokens=False)
            correct += is_correct(it, text)
    return correct / len(items)


def decode_speed(model, shards: TokenShards, new_tokens: int = 64, prompt_len: int = 16,
                 use_cache: bool = True) -> tuple[float, int | None]:
    """(greedy decode tokens/s at batch 1 after a warm-up, the most CUDA memory decoding allocated
    beyond what was already held (KV cache, activations), or None on CPU)."""
    val = shards.split("val") or shards.split("train")
    prompt = [int(t) for t in val[0][:prompt_len]]
    generate(model, [prompt], 4, use_cache=use_cache)  # warm-up: allocator, kernels, caches
    cuda = model.tok_embeddings.weight.is_cuda
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        held = torch.cuda.memory_allocated()
    t0 = time.perf_counter()
    out = generate(model, [prompt], new_tokens, use_cache=use_cache)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() - held if cuda else None
    return len(out.tokens[0]) / seconds, peak
