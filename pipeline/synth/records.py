"""Synthetic records and their self-describing JSONL format (`llm-pipeline-synth/1`).

One JSON object per line. Keys every record has:
    format      "llm-pipeline-synth/1"
    id          stable id (sha1 of generator + source ids + index, 16 hex chars)
    kind        "pretrain" | "sft" | "rl"
    generator   e.g. "short_rl", "long_pretrain"
    source      always "synthetic"
    source_ids  ids of the documents it was made from
    domain      domain of the (first) source document, "unknown" if none
By kind:
    pretrain    text, title
    sft         messages: [{"role": "system"|"user"|"assistant", "content": str}, ...]
                (the last message is the assistant response the loss is taken on)
    rl          messages (system/user prompt only, no assistant turn), answer (str),
                checker (str: arithmetic | unit_conversion | fact_extraction | exact_match),
                tolerance (float or null: absolute for arithmetic, relative for unit_conversion),
                task (str: which template made it)
The checker rules are written out in `pipeline/synth/checkers.py` so a trainer can re-implement
them; the reward of a completion is 1.0 when its checker accepts it, else 0.0.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FORMAT = "llm-pipeline-synth/1"
KINDS = ("pretrain", "sft", "rl")
RL_SYSTEM = "Answer the question. End your reply with a line 'Answer: <answer>'."


def record_id(generator: str, source_ids: list[str], index: int) -> str:
    key = f"{generator}\x00{','.join(source_ids)}\x00{index}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def make_record(kind: str, generator: str, source_ids: list[str], domain: str | None, index: int = 0,
                **fields: Any) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return {"format": FORMAT, "id": record_id(generator, source_ids, index), "kind": kind,
            "generator": generator, "source": "synthetic", "source_ids": list(source_ids),
            "domain": domain or "unknown", **fields}


def rl_record(generator: str, source_ids: list[str], domain: str | None, question: str, answer: str,
              checker: str, tolerance: float | None, task: str, index: int = 0) -> dict[str, Any]:
    messages = [{"role": "system", "content": RL_SYSTEM}, {"role": "user", "content": question}]
    return make_record("rl", generator, source_ids, domain, index, messages=messages, answer=str(answer),
                       checker=checker, tolerance=tolerance, task=task)


def sft_record(generator: str, source_ids: list[str], domain: str | None, prompt: str, response: str,
               index: int = 0, system: str | None = None) -> dict[str, Any]:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    return make_record("sft", generator, source_ids, domain, index, messages=messages)


def to_json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def validate_record(record: dict[str, Any]) -> str | None:
    """Why a record is malformed, or None when it is well formed."""
    if record.get("format") != FORMAT or record.get("kind") not in KINDS:
        return "bad_format_or_kind"
    if not record.get("source_ids"):
        return "no_source_ids"
    kind = record["kind"]
    if kind == "pretrain" and not str(record.get("text", "")).strip():
        return "empty_text"
    if kind in ("sft", "rl"):
        msgs = record.get("messages") or []
        if not msgs or any(not str(m.get("content", "")).strip() for m in msgs):
            return "empty_message"
    if kind == "rl" and (not str(record.get("answer", "")).strip() or not record.get("checker")):
        return "no_answer_or_checker"
    return None
