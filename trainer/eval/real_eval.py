"""Evaluation on real text and a real benchmark, for a model with a real tokenizer (an imported base).

- `text_perplexity`: token-level perplexity (exp of the mean next-token cross-entropy over the
  tokenizer's tokens; not word perplexity) on held-out real documents (a JSONL(.gz) with a "text"
  field), each document tokenized on its own and cut into non-overlapping windows of `seq_len` + 1
  tokens (the last, shorter one included), so every token after a window's first is scored once.
- `gsm8k_exact_match`: GSM8K test items answered greedily, scored with the shared strict checker
  (`answer_checkers.check("arithmetic", ...)`: ONE final number after an `Answer:`/`####` marker, else
  the last number; a reply listing several numbers after the marker scores 0).

trainer/ does not import pipeline/: the bundled files' paths are arguments
(pipeline/resources/eval/heldout_text.jsonl.gz, gsm8k_test.jsonl.gz).
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

import answer_checkers
from chat_templates import ChatTemplate
from trainer.infer.generate import generate

IM_START, IM_END, EOS = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
# What the prompt asks for, so a strict parse has a marker to find (lm-eval's GSM8K uses "####").
GSM8K_INSTRUCTION = "Solve the problem step by step. End with a line 'Answer: <number>'."


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@torch.no_grad()
def text_perplexity(model, tokenizer, texts: list[str], seq_len: int, max_tokens: int = 0) -> tuple[float, int]:
    """(token perplexity, tokens scored) over `texts`; `max_tokens` > 0 stops after about that many."""
    device = model.tok_embeddings.weight.device
    nll, count = 0.0, 0
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        for start in range(0, max(len(ids) - 1, 0), seq_len):
            window = torch.tensor(ids[start:start + seq_len + 1], device=device)[None]
            logits = model(window[:, :-1]).float()
            nll += F.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
            count += window.shape[1] - 1
            if 0 < max_tokens <= count:
                return math.exp(nll / count), count
    if count == 0:
        raise ValueError("no held-out text with at least two tokens")
    return math.exp(nll / count), count


@dataclass
class GSM8KItem:
    question: str
    answer: str  # the final number after GSM8K's "####"


def gsm8k_items(path: str | Path, n: int = 0) -> list[GSM8KItem]:
    """The first `n` (0: all) items of a GSM8K JSONL(.gz) (`question`, `answer` ending '#### <number>')."""
    rows = read_jsonl(path)
    items = [GSM8KItem(r["question"], r["answer"].split("####")[-1].strip().replace(",", "")) for r in rows]
    return items[:n] if n > 0 else items


def chat_prompt(question: str, template: ChatTemplate | None = None) -> str:
    """The user turn and the assistant's generation prompt in the model's own chat template (SmolLM2's
    adds its default system prompt, as `apply_chat_template` does); ChatML when the model ships none."""
    return (template or ChatTemplate()).render([{"role": "user", "content": f"{question}\n{GSM8K_INSTRUCTION}"}],
                                               add_generation_prompt=True)


def plain_prompt(question: str) -> str:
    return f"Question: {question}\n{GSM8K_INSTRUCTION}\nAnswer:"


def is_right(completion: str, answer: str) -> bool:
    return answer_checkers.check("arithmetic", completion, answer)


@torch.no_grad()
def gsm8k_exact_match(model, tokenizer, items: list[GSM8KItem], max_new_tokens: int = 128, batch: int = 16,
                      chat: bool = True, template: ChatTemplate | None = None,
                      kv_policy=None) -> tuple[float, list[str]]:
    """(share of items answered right, the completions), greedy, stopping at <|im_end|>/<|endoftext|>.
    `chat`: prompts in `template` (the model's, e.g. `ChatTemplate.beside(tokenizer.json)`), else plain text."""
    if not items:
        raise ValueError("no GSM8K item to evaluate")
    stops = [i for i in (tokenizer.token_to_id(IM_END), tokenizer.token_to_id(EOS)) if i is not None]
    def render(question: str) -> str:
        return chat_prompt(question, template) if chat else plain_prompt(question)

    completions, right = [], 0
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        prompts = [tokenizer.encode(render(it.question), add_special_tokens=False).ids for it in chunk]
        out = generate(model, prompts, max_new_tokens, stop_ids=stops, kv_policy=kv_policy)  # infer/kv_eviction.py
        for it, toks, done in zip(chunk, out.tokens, out.finished, strict=True):
            text = tokenizer.decode(toks[:-1] if done else toks, skip_special_tokens=True)
            completions.append(text)
            right += is_right(text, it.answer)
    return right / len(items), completions
