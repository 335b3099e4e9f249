"""SFT and RL data in training-ready form, from synth records (`llm-pipeline-synth/1` JSONL lines).

    sft/index.json, sft/{train,val}-NNNNN.bin (+ .mask.bin uint8 loss mask, .docs.bin ends):
        chat-templated conversations packed like pretrain shards, one EOS after each (mask 0)
    sft.jsonl: {"id", "messages", "prompt", "completion", "text", "split", "source_ids", "generator"}
        with text = prompt + completion rendered by the chat template (`pipeline.tokenize.chat`: ChatML, or
        the base model's own template when the stage tokenizes with a base's tokenizer)
    rl.jsonl:  the synth RL record (messages, answer, checker, tolerance, task, source_ids, ...) plus
        "prompt_text" (rendered with the generation prompt), "prompt_tokens" and "split"

Held-out records (split "val") are what evaluation scores and what SFT/GRPO never train on. A
record's split comes from its source documents (`pipeline/splits.py`): val only if every source is
val. A record whose sources straddle the split (synth never writes one) is dropped and counted.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from pipeline.splits import MIXED, sources_split
from pipeline.tokenize.chat import ChatTemplate, encode_with_mask, render
from pipeline.tokenize.shards import FORMAT, ShardWriter


def assign_splits(records: list[dict], seed: int, val_fraction: float) -> dict[str, str]:
    """Each record's split from its `source_ids` ("train", "val" or "mixed")."""
    return {r["id"]: sources_split(r.get("source_ids") or [r["id"]], seed, val_fraction) for r in records}


def write_sft(records: list[dict], tok: Tokenizer, out: Path, dtype: str, eos_id: int, seed: int,
              val_fraction: float, shard_tokens: int, template: ChatTemplate | None = None) -> dict:
    sft_dir = out / "sft"
    sft_dir.mkdir(parents=True, exist_ok=True)
    writers = {s: ShardWriter(sft_dir, s, dtype, eos_id, shard_tokens, mask=True) for s in ("train", "val")}
    lines, tokens, learned = [], 0, 0
    splits = assign_splits(records, seed, val_fraction)
    for rec in sorted(records, key=lambda r: r["id"]):
        msgs = rec["messages"]
        split = splits[rec["id"]]
        if split == MIXED:
            continue
        ids, mask = encode_with_mask(tok, msgs, template)
        writers[split].add(np.asarray(ids), np.asarray(mask))
        tokens, learned = tokens + len(ids) + 1, learned + sum(mask)
        prompt = render(msgs[:-1], add_generation_prompt=True, template=template)  # everything before the answer
        text = render(msgs, template=template)
        completion = text[len(prompt):] if text.startswith(prompt) else f"{msgs[-1]['content']}<|im_end|>\n"
        lines.append(json.dumps({"id": rec["id"], "messages": msgs, "prompt": prompt, "completion": completion,
                                 "text": text, "split": split, "source_ids": rec["source_ids"],
                                 "generator": rec["generator"]}, ensure_ascii=False))
    shards = writers["train"].finish() + writers["val"].finish()
    index = {"format": FORMAT, "dtype": dtype, "vocab_size": tok.get_vocab_size(), "eos_id": eos_id,
             "tokenizer": "../tokenizer.json", "mask_dtype": "uint8", "shards": shards}
    (sft_dir / "index.json").write_text(json.dumps(index, indent=2))
    (out / "sft.jsonl").write_text("".join(line + "\n" for line in lines))
    return {"sft_examples": len(lines), "sft_tokens": tokens, "sft_loss_tokens": learned,
            "sft_val_examples": sum(v == "val" for v in splits.values()),
            "sft_dropped_mixed_split": sum(v == MIXED for v in splits.values())}


# GSM8K's own answer format ends in "#### <number>"; our checkers take "Answer: <number>" (answer_checkers)
GSM8K_INSTRUCTION = "Solve the problem step by step, then give the final number as 'Answer: <number>'."


def gsm8k_rl_records(path: str | Path, limit: int = 0) -> list[dict]:
    """Verifiable prompts from a GSM8K-format JSONL (.gz): `question`, `answer` ending in `#### <number>`.
    Every one is a train record: GSM8K's held-out items are its test split, which evaluation scores."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    out = []
    for i, item in enumerate(items[:limit] if limit else items):
        answer = item["answer"].split("####")[-1].strip().replace(",", "")
        out.append({"id": f"gsm8k-train-{i:05d}", "task": "gsm8k", "generator": "gsm8k_train", "source_ids": [],
                    "messages": [{"role": "user", "content": f"{item['question']}\n{GSM8K_INSTRUCTION}"}],
                    "answer": answer, "checker": "arithmetic", "tolerance": None, "split": "train"})
    return out


def write_rl(records: list[dict], tok: Tokenizer, out: Path, seed: int = 0, val_fraction: float = 0.0,
             template: ChatTemplate | None = None) -> dict:
    """rl.jsonl; a record that carries its own `split` (GSM8K train items) keeps it."""
    lines = []
    splits = {**assign_splits(records, seed, val_fraction), **{r["id"]: r["split"] for r in records if "split" in r}}
    for rec in sorted(records, key=lambda r: r["id"]):
        if splits[rec["id"]] == MIXED:
            continue
        prompt = render(rec["messages"], add_generation_prompt=True, template=template)
        n = len(tok.encode(prompt, add_special_tokens=False).ids)
        lines.append(json.dumps({**rec, "prompt_text": prompt, "prompt_tokens": n, "split": splits[rec["id"]]},
                                ensure_ascii=False))
    (out / "rl.jsonl").write_text("".join(line + "\n" for line in lines))
    return {"rl_prompts": len(lines), "rl_val_prompts": sum(v == "val" for v in splits.values()),
            "rl_dropped_mixed_split": sum(v == MIXED for v in splits.values())}
