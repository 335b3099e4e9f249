"""SFT and RL data in training-ready form, from synth records (`llm-pipeline-synth/1` JSONL lines).

    sft/index.json, sft/{train,val}-NNNNN.bin (+ .mask.bin uint8 loss mask, .docs.bin ends):
        chat-templated conversations packed like pretrain shards, one EOS after each (mask 0)
    sft.jsonl: {"id", "messages", "prompt", "completion", "text", "split", "source_ids", "generator"}
        with text = prompt + completion rendered by the ChatML template (`pipeline.tokenize.chat`)
    rl.jsonl:  the synth RL record (messages, answer, checker, tolerance, task, source_ids, ...) plus
        "prompt_text" (rendered with the generation prompt) and "prompt_tokens"
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from pipeline.tokenize.chat import encode_with_mask, render
from pipeline.tokenize.shards import FORMAT, ShardWriter


def split_of(record_id: str, seed: int, val_fraction: float) -> str:
    """Deterministic split of a chat record by a hash of its id (not Spark's: these are few, in the driver)."""
    h = zlib.crc32(f"{seed}\x00{record_id}".encode()) / 2**32
    return "val" if h < val_fraction else "train"


def write_sft(records: list[dict], tok: Tokenizer, out: Path, dtype: str, eos_id: int, seed: int,
              val_fraction: float, shard_tokens: int) -> dict:
    sft_dir = out / "sft"
    sft_dir.mkdir(parents=True, exist_ok=True)
    writers = {s: ShardWriter(sft_dir, s, dtype, eos_id, shard_tokens, mask=True) for s in ("train", "val")}
    lines, tokens, learned = [], 0, 0
    for rec in sorted(records, key=lambda r: r["id"]):
        msgs = rec["messages"]
        split = split_of(rec["id"], seed, val_fraction)
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


def write_rl(records: list[dict], tok: Tokenizer, out: Path) -> dict:
    lines = []
    for rec in sorted(records, key=lambda r: r["id"]):
        prompt = render(rec["messages"], add_generation_prompt=True)
        n = len(tok.encode(prompt, add_special_tokens=False).ids)
        lines.append(json.dumps({**rec, "prompt_text": prompt, "prompt_tokens": n}, ensure_ascii=False))
    (out / "rl.jsonl").write_text("".join(line + "\n" for line in lines))
    return {"rl_prompts": len(lines)}
