"""GRPO's rollouts: RL prompts in, groups of sampled completions with their verifiable rewards out.

Prompts are rl.jsonl records (the tokenize stage renders `prompt_text` with the ChatML generation
prompt); completions come from trainer/infer/generate.py (KV cache, batched, left-padded) and end at
`<|im_end|>` or EOS; rewards from trainer/eval/rewards.py (the synth stage's checkers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from trainer.config import ConfigError
from trainer.eval import rewards
from trainer.infer.generate import generate
from trainer.model.transformer import Transformer

CHAT_STOPS = ("<|im_end|>", "<|endoftext|>")  # the end of an assistant turn (ChatML), and EOS


class Codec(Protocol):
    stop_ids: list[int]

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


class TokenizerCodec:
    """The run's HF `tokenizers` file; a completion stops at `<|im_end|>` or EOS."""

    def __init__(self, tokenizer_file: str | Path):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(tokenizer_file))
        self.stop_ids = [i for t in CHAT_STOPS if (i := self.tok.token_to_id(t)) is not None]

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=True)


def load_prompts(data: str | Path, train_split_only: bool = True) -> list[dict]:
    """rl.jsonl records (`prompt_text` rendered with the chat template by the tokenize stage). With
    `train_split_only`, records of the val split (their "split", which the tokenize stage decides from
    their source documents) stay out: trainer evaluate scores them as held-out items."""
    path = Path(data)
    path = path / "rl.jsonl" if path.is_dir() else path
    if not path.is_file():
        raise ConfigError(f"{path} not found: did the tokenize stage get synth RL records?")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if train_split_only:
        records = [r for r in records if r.get("split") != "val"]
    for r in records:
        if "prompt_text" not in r:
            r["prompt_text"] = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in r["messages"])
            r["prompt_text"] += "<|im_start|>assistant\n"
        if r.get("checker") not in rewards.CHECKERS:
            raise ConfigError(f"{path}: record {r.get('id')} has checker {r.get('checker')!r}; known: "
                              f"{', '.join(sorted(rewards.CHECKERS))}")
    if not records:
        raise ConfigError(f"{path} holds no RL prompts" + (" in the train split" if train_split_only else ""))
    return records


@dataclass
class Group:
    prompt: list[int]
    completions: list[list[int]]  # stop token included (the policy learns to stop)
    rewards: list[float]


def rollout(model: Transformer, codec: Codec, records: list[dict], group_size: int, max_new_tokens: int,
            max_prompt: int, generator: torch.Generator, temperature: float = 1.0, top_k: int = 0,
            top_p: float = 1.0) -> list[Group]:
    """`group_size` sampled completions of each record's prompt (its last `max_prompt` tokens), scored."""
    prompts = [codec.encode(r["prompt_text"])[-max_prompt:] for r in records]
    out = generate(model, [p for p in prompts for _ in range(group_size)], max_new_tokens, temperature=temperature,
                   top_k=top_k, top_p=top_p, stop_ids=codec.stop_ids, generator=generator)
    stops, groups = set(codec.stop_ids), []
    for i, (record, prompt) in enumerate(zip(records, prompts, strict=True)):
        completions = out.tokens[i * group_size : (i + 1) * group_size]
        texts = [codec.decode([t for t in c if t not in stops]) for c in completions]
        groups.append(Group(prompt, completions, [rewards.reward(record, t) for t in texts]))
    return groups


def group_tensors(group: Group, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs, completion targets, completion mask): one prompt, so no padding before the completions."""
    width = max(1, max(len(c) for c in group.completions))
    seq = torch.zeros((len(group.completions), len(group.prompt) + width), dtype=torch.long)
    mask = torch.zeros((len(group.completions), width))
    seq[:, : len(group.prompt)] = torch.tensor(group.prompt)
    for i, c in enumerate(group.completions):
        seq[i, len(group.prompt) : len(group.prompt) + len(c)] = torch.tensor(c, dtype=torch.long)
        mask[i, : len(c)] = 1.0
    return seq[:, :-1].to(device), seq[:, len(group.prompt):].to(device), mask.to(device)
