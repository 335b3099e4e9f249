"""SFT and RL data in training-ready form, from synth records (`llm-pipeline-synth/1` JSONL lines).

    sft/index.json, sft/{train,val}-NNNNN.bin (+ .mask.bin uint8 loss mask, .docs.bin ends):
        chat-templated conversations packed like pretrain shards, one EOS after each (mask 0)
    sft.jsonl: {"id", "messages", "prompt", "completion", "text", "split", "source_ids", "generator"}
        with text = prompt + completion rendered by the ChatML template (`pipeline.tokenize.chat`)
    rl.jsonl:  the synth RL record (messages, answer, checker, tolerance, task, source_ids, ...) plus
        "prompt_text" (rendered with the generation prompt), "prompt_tokens" and "split"

Held-out records (split "val") are what evaluation scores and what SFT/GRPO never train on.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from pipeline.tokenize.chat import encode_with_mask, render
from pipeline.tokenize.shards import FORMAT, ShardWriter


def _position(record_id: str, seed: int) -> float:
    return zlib.crc32(f"{seed}\x00{record_id}".encode()) / 2**32


def split_of(record_id: str, seed: int, val_fraction: float) -> str:
    """Deterministic split of a chat record by a hash of its id (not Spark's: these are few, in the driver)."""
    return "val" if _position(record_id, seed) < val_fraction else "train"


def assign_splits(record_ids: list[str], seed: int, val_fraction: float) -> dict[str, str]:
    """split_of for each id, except that two or more records with val_fraction > 0 always hold out at
    least one (the lowest hash): a small run's 0.05 of 12 records would otherwise evaluate on nothing."""
    splits = {i: split_of(i, seed, val_fraction) for i in record_ids}
    if val_fraction > 0 and len(splits) >= 2 and "val" not in splits.values():
        splits[min(splits, key=lambda i: _position(i, seed))] = "val"
    return splits


def write_sft(records: list[dict], tok: Tokenizer, out: Path, dtype: str, eos_id: int, seed: int,
              val_fraction: float, shard_tokens: int) -> dict:
    sft_dir = out / "sft"
    sft_dir.mkdir(parents=True, exist_ok=True)
    writers = {s: ShardWriter(sft_dir, s, dtype, eos_id, shard_tokens, mask=True) for s in ("train", "val")}
    lines, tokens, learned = [], 0, 0
    splits = assign_splits([r["id"] for r in records], seed, val_fraction)
    for rec in sorted(records, key=lambda r: r["id"]):
        msgs = rec["messages"]
        split = splits[rec["id"]]
        ids, mask = encode_with_mask(tok, msgs)
        writers[split].add(np.asarray(ids), np.asarray(mask))
        tokens, learned = tokens + len(ids) + 1, learned + sum(mask)
        prompt = render(msgs[:-1], add_generation_prompt=True)  # everything before the answer
        completion = f"{msgs[-1]['content']}<|im_end|>\n"
        lines.append(json.dumps({"id": rec["id"], "messages": msgs, "prompt": prompt, "completion": completion,
                                 "text": render(msgs), "split": split, "source_ids": rec["source_ids"],
                                 "generator": rec["generator"]}, ensure_ascii=False))
    shards = writers["train"].finish() + writers["val"].finish()
    index = {"format": FORMAT, "dtype": dtype, "vocab_size": tok.get_vocab_size(), "eos_id": eos_id,
             "tokenizer": "../tokenizer.json", "mask_dtype": "uint8", "shards": shards}
    (sft_dir / "index.json").write_text(json.dumps(index, indent=2))
    (out / "sft.jsonl").write_text("".join(line + "\n" for line in lines))
    return {"sft_examples": len(lines), "sft_tokens": tokens, "sft_loss_tokens": learned}


def write_rl(records: list[dict], tok: Tokenizer, out: Path, seed: int = 0, val_fraction: float = 0.0) -> dict:
    lines = []
    splits = assign_splits([r["id"] for r in records], seed, val_fraction)
    for rec in sorted(records, key=lambda r: r["id"]):
        prompt = render(rec["messages"], add_generation_prompt=True)
        n = len(tok.encode(prompt, add_special_tokens=False).ids)
        lines.append(json.dumps({**rec, "prompt_text": prompt, "prompt_tokens": n, "split": splits[rec["id"]]},
                                ensure_ascii=False))
    (out / "rl.jsonl").write_text("".join(line + "\n" for line in lines))
    return {"rl_prompts": len(lines), "rl_val_prompts": sum(v == "val" for v in splits.values())}
