"""The `Generator` protocol and its deterministic template backend (the default: offline, tests, demo).

A generator answers chat requests. Each request names a `task` ("rephrase", "sft_pair"), carries
the chat `messages` an LLM would see and a `payload` (the document fields) a template backend
uses instead. Both backends return the same output shape per task, so the caller parses and
validates one way: "rephrase" -> plain text; "sft_pair" -> JSON {"instruction": ..., "response": ...}.
The LLM backend is `pipeline.synth.llm_client.OpenAIChatGenerator`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.synth.text import sentences, title_of


@dataclass
class ChatRequest:
    task: str
    messages: list[dict[str, str]]
    payload: dict[str, Any] = field(default_factory=dict)


class Generator(Protocol):
    name: str

    def complete(self, requests: list[ChatRequest]) -> list[str | None]:
        """One output per request, in order; None where generation failed."""
        ...


class TemplateGenerator:
    """Rule-based outputs: deterministic, offline; what `make demo` and the tests run."""

    name = "template"

    def complete(self, requests: list[ChatRequest]) -> list[str | None]:
        return [self._one(r) for r in requests]

    def _one(self, request: ChatRequest) -> str | None:
        fn = {"rephrase": _rephrase, "sft_pair": _sft_pair}.get(request.task)
        return fn(request.payload) if fn else None


def _rephrase(payload: dict[str, Any]) -> str | None:
    sents = sentences(payload.get("text", ""))
    if not sents:
        return None
    title = title_of(payload)
    if payload.get("style") == "qa":
        pairs = [f"Question: What does the passage about {title} say, point {i + 1}?\nAnswer: {s}"
                 for i, s in enumerate(sents)]
        return "\n\n".join(pairs)
    # "wikipedia": an encyclopedic lead plus sections of three sentences.
    body = [f"{title}\n\n{sents[0]}"]
    for i in range(1, len(sents), 3):
        body.append(f"== Part {i // 3 + 1} ==\n" + " ".join(sents[i:i + 3]))
    return "\n\n".join(body)


def _sft_pair(payload: dict[str, Any]) -> str | None:
    sents = sentences(payload.get("text", ""))
    if not sents:
        return None
    text = payload.get("text", "")
    if payload.get("variant") == "title":
        instruction = f"Suggest a short title for this text.\n\n{text}"
        return json.dumps({"instruction": instruction, "response": title_of(payload)})
    instruction = f"Summarize the following text in at most three sentences.\n\n{text}"
    return json.dumps({"instruction": instruction, "response": " ".join(sents[:3])})


# One worked example per prompt: a 135M chat model (SmolLM2) keeps to a shown shape far more often than to
# a described one (measured: zero-shot it answered the SFT prompt by copying the document).
EXAMPLE_DOC = ("The Eiffel Tower is a wrought-iron lattice tower in Paris. It was built in 1889 as the entrance to "
               "the World's Fair and is 330 metres tall.")
EXAMPLE_QA = ("Question: What is the Eiffel Tower?\nAnswer: A wrought-iron lattice tower in Paris.\n\n"
              "Question: When was it built?\nAnswer: In 1889, as the entrance to the World's Fair.\n\n"
              "Question: How tall is it?\nAnswer: 330 metres.")
EXAMPLE_PAIR = "Question: When was the Eiffel Tower built?\nAnswer: In 1889, as the entrance to the World's Fair."


def rephrase_messages(text: str, style: str) -> list[dict[str, str]]:
    # WRAP (Maini et al. 2024) prompts: keep every fact, change only the style.
    if style == "qa":
        ask = "Rewrite the text as a series of questions and answers, keeping every fact.\n\nText:\n"
        return [{"role": "user", "content": ask + EXAMPLE_DOC}, {"role": "assistant", "content": EXAMPLE_QA},
                {"role": "user", "content": ask + text}]
    styles = {"wikipedia": "in high-quality English like a Wikipedia article"}
    return [{"role": "system", "content": "You rewrite documents faithfully, keeping every fact."},
            {"role": "user", "content": f"Rewrite the following text {styles.get(style, style)}:\n\n{text}"}]


def sft_pair_messages(text: str) -> list[dict[str, str]]:
    ask = "Write one question a user could ask about the document and its answer, using only the document.\n\nDocument:\n"
    return [{"role": "user", "content": ask + EXAMPLE_DOC}, {"role": "assistant", "content": EXAMPLE_PAIR},
            {"role": "user", "content": ask + text}]


_LABELLED = re.compile(r"^\s*\**(?:instruction|question)\**\s*:\s*(?P<i>.+?)\s*\n\s*\**(?:response|answer)\**\s*:"
                       r"\s*(?P<r>.+)$", re.I | re.S)


def parse_sft_pair(raw: str | None) -> tuple[str, str] | None:
    """(instruction, response) from a generator output, or None when malformed or empty.

    JSON {"instruction", "response"} (fenced or not) or two labelled parts, "Question: ...\nAnswer: ..."
    (small models keep to that shape far more often than to JSON)."""
    if not raw:
        return None
    raw = raw.strip()
    if raw.startswith("```"):  # LLMs often fence JSON
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        obj = json.loads(raw)
    except ValueError:
        m = _LABELLED.match(raw)
        obj = {"instruction": m["i"], "response": m["r"]} if m else None
    if not isinstance(obj, dict):
        return None
    inst, resp = str(obj.get("instruction") or "").strip(), str(obj.get("response") or "").strip()
    return (inst, resp) if inst and resp else None
