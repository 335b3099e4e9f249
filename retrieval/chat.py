"""A minimal OpenAI-compatible chat call (`POST {base_url}/chat/completions`) for RAG and research.

The pipeline's synth client (pipeline/synth/llm_client.py) batches, caches and retries for bulk
generation; an interactive answer needs one call, a timeout and the token usage (research budgets
count it), and trainer/ may not import pipeline/.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass


class ChatError(RuntimeError):
    """The served model could not be reached or answered with something that is not a completion."""


@dataclass
class ChatConfig:
    base_url: str = "http://127.0.0.1:8000/v1"  # `vllm serve`'s default port
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    temperature: float = 0.0  # greedy: answers and their evaluation are reproducible
    max_tokens: int = 128
    # OpenAI's frequency_penalty: SmolLM2-135M under greedy decoding loops on a sentence (seen in reports)
    frequency_penalty: float = 0.0
    timeout_s: float = 120.0


@dataclass
class ChatReply:
    content: str
    prompt_tokens: int
    completion_tokens: int


def chat(cfg: ChatConfig, messages: list[dict[str, str]], max_tokens: int | None = None) -> ChatReply:
    body = {"model": cfg.model, "messages": messages, "temperature": cfg.temperature,
            "max_tokens": max_tokens or cfg.max_tokens}
    if cfg.frequency_penalty:
        body["frequency_penalty"] = cfg.frequency_penalty
    headers = {"Content-Type": "application/json"}
    if key := os.environ.get(cfg.api_key_env, ""):
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(cfg.base_url.rstrip("/") + "/chat/completions", data=json.dumps(body).encode(),
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout_s) as resp:
            obj = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise ChatError(f"model server at {cfg.base_url} answered HTTP {e.code}: {e.read()[:200]!r}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise ChatError(f"model server at {cfg.base_url} unreachable: {e}") from None
    except ValueError:
        raise ChatError(f"model server at {cfg.base_url} sent a body that is not JSON") from None
    try:
        content = obj["choices"][0]["message"]["content"] or ""
        usage = obj.get("usage") or {}
    except (KeyError, IndexError, TypeError):
        raise ChatError(f"model server at {cfg.base_url} sent no completion: {str(obj)[:200]}") from None
    return ChatReply(str(content), int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
