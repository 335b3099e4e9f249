"""OpenAI-compatible chat-completions backend (`POST {base_url}/chat/completions`: vLLM, SGLang, APIs).

Bounded concurrency (a thread pool), a per-request timeout, retries with exponential backoff on
429 / 5xx / timeouts / connection errors / invalid JSON (honouring `Retry-After`), a response
cache keyed by the hash of (model, messages, sampling settings) so a rerun does not pay twice,
and rejection of empty outputs. Counters say what happened (`stats`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipeline.llm.journal import Journal
from pipeline.progress import Progress
from pipeline.synth.generator import ChatRequest


@dataclass
class LLMConfig:
    base_url: str = "http://127.0.0.1:8000/v1"  # vLLM's `vllm serve` default port
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this env var, never from config
    max_concurrency: int = 8
    max_retries: int = 4
    backoff_s: float = 1.0  # doubles per retry (OpenAI's rate-limit guidance: exponential backoff)
    max_backoff_s: float = 30.0
    timeout_s: float = 120.0
    temperature: float = 0.7
    max_tokens: int = 1024
    cache_dir: str = ""  # empty: no cache; on a cluster use a path every executor can write
    endpoint: str = ""  # a running server's base URL (overrides base_url); empty with model_path: start one
    model_path: str = ""  # HF folder the synth stage serves with vLLM when no endpoint is given
    gpu_memory_utilization: float = 0.15  # the started engine's KV-cache share (of RAM on CPU)
    journal_dir: str = ""  # completed responses per partition (resume); empty: <stage output>.journal
    extra_body: dict = field(default_factory=dict)  # merged into each request (vLLM: continue_final_message...)
    # >0: the output is JSON {"text", "top": {token: logprob}} of the first generated token's top-k (scoring
    # by probability, e.g. an annotator's 0-5 digit, instead of by the sampled text)
    top_logprobs: int = 0


class OpenAIChatGenerator:
    name = "openai"

    def __init__(self, cfg: LLMConfig, session: requests.Session | None = None, journal: Journal | None = None):
        self.cfg = cfg
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self.journal = journal  # completed responses by request hash: a rerun sends only the missing ones
        self.stats = {"requests": 0, "cache_hits": 0, "journal_hits": 0, "retries": 0, "failed": 0, "empty": 0,
                      "ok": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0}

    def complete(self, requests_: list[ChatRequest]) -> list[str | None]:
        # LLM calls are the slow part of synthesis (seconds each): a line with rate and ETA every 10 s
        progress = Progress("synth llm", "requests", total=len(requests_), every_s=10.0)

        def one(request: ChatRequest) -> str | None:
            try:
                return self._one(request)
            finally:
                progress.advance()

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, self.cfg.max_concurrency)) as pool:
            out = list(pool.map(one, requests_))
        self._count("seconds", round(time.monotonic() - t0, 3))
        progress.finish()
        return out

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    def cache_key(self, messages: list[dict[str, str]]) -> str:
        body = {"model": self.cfg.model, "messages": messages, "temperature": self.cfg.temperature,
                "max_tokens": self.cfg.max_tokens, **self.cfg.extra_body, "top_logprobs": self.cfg.top_logprobs}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return Path(self.cfg.cache_dir) / key[:2] / f"{key}.json" if self.cfg.cache_dir else None

    def _one(self, request: ChatRequest) -> str | None:
        key = self.cache_key(request.messages)
        if self.journal is not None and (done := self.journal.get(key)) is not None:
            self._count("journal_hits")
            return done["content"]
        path = self._cache_path(key)
        if path is not None and path.is_file():
            self._count("cache_hits")
            return json.loads(path.read_text())["content"]
        fetched = self._fetch(request.messages)
        if fetched is None:
            return None
        content, usage = fetched
        self._count("prompt_tokens", usage.get("prompt_tokens", 0))
        self._count("completion_tokens", usage.get("completion_tokens", 0))
        if not content.strip():
            self._count("empty")
            return None
        self._count("ok")
        if self.journal is not None:
            self.journal.put(key, content, usage)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({"content": content}))
            os.replace(tmp, path)  # atomic: a concurrent reader never sees half an entry
        return content

    def _fetch(self, messages: list[dict[str, str]]) -> tuple[str, dict] | None:
        url = self.cfg.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(self.cfg.api_key_env, "")
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        body = {"model": self.cfg.model, "messages": messages, "temperature": self.cfg.temperature,
                "max_tokens": self.cfg.max_tokens, **self.cfg.extra_body}
        if self.cfg.top_logprobs:
            body.update(logprobs=True, top_logprobs=self.cfg.top_logprobs)
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                self._count("retries")
            self._count("requests")
            retry_after = None
            try:
                resp = self._session.post(url, json=body, headers=headers, timeout=self.cfg.timeout_s)
                if resp.status_code == 429 or resp.status_code >= 500:
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                elif resp.status_code >= 400:
                    break  # a client error will not improve on retry
                else:
                    parsed = _content(resp.text, bool(self.cfg.top_logprobs))
                    if parsed is not None:
                        return parsed
            except (requests.Timeout, requests.ConnectionError):
                pass
            if attempt < self.cfg.max_retries:
                delay = min(self.cfg.max_backoff_s, self.cfg.backoff_s * 2 ** attempt)
                time.sleep(min(self.cfg.max_backoff_s, retry_after) if retry_after is not None else delay)
        self._count("failed")
        return None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _content(text: str, top_logprobs: bool = False) -> tuple[str, dict] | None:
    """(first choice's message content, token usage), or None when the body is not the expected JSON."""
    try:
        obj = json.loads(text)
        content = obj["choices"][0]["message"]["content"]
        usage = obj.get("usage") or {}
        if top_logprobs:
            top = obj["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            content = json.dumps({"text": content, "top": {t["token"]: t["logprob"] for t in top}})
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    if not isinstance(content, str) or not isinstance(usage, dict):
        return None
    return content, {k: int(v) for k, v in usage.items() if k in ("prompt_tokens", "completion_tokens")
                     and isinstance(v, int)}
