"""The OpenAI-compatible client against a scripted local server on 127.0.0.1 (no network)."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.synth import short_sft
from pipeline.synth.generator import ChatRequest
from pipeline.synth.llm_client import LLMConfig, OpenAIChatGenerator
from tests.synth.corpus import make_docs


def _ok(content: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()


class FakeServer:
    """Answers each POST with the next scripted step: an int status, "timeout", "badjson" or content."""

    def __init__(self, script):
        self.script, self.seen = list(script), []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.seen.append((self.path, self.headers.get("Authorization"), body))
                step = server.script.pop(0) if server.script else "default"
                if step == "timeout":
                    time.sleep(1.0)
                    step = "late"
                if isinstance(step, int):
                    self.send_response(step)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                payload = b"{not json" if step == "badjson" else _ok(step)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may have given up (timeout)
                    self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_factory():
    made = []

    def make(script):
        made.append(FakeServer(script))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _cfg(url, tmp_path, **kw):
    base = {"backoff_s": 0.01, "timeout_s": 0.3, "max_retries": 5, "max_concurrency": 1}
    return LLMConfig(base_url=url, model="tiny", cache_dir=str(tmp_path / "cache"), **{**base, **kw})


def test_survives_429_500_timeout_and_invalid_json_then_caches(server_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    server = server_factory([429, 500, "timeout", "badjson", "a rewritten text"])
    req = ChatRequest("rephrase", [{"role": "user", "content": "rewrite this"}])
    gen = OpenAIChatGenerator(_cfg(server.url, tmp_path))
    assert gen.complete([req]) == ["a rewritten text"]
    assert gen.stats["retries"] == 4 and gen.stats["ok"] == 1 and gen.stats["failed"] == 0
    path, auth, body = server.seen[-1]
    assert path == "/v1/chat/completions" and auth == "Bearer sk-test" and body["model"] == "tiny"

    n_before = len(server.seen)
    again = OpenAIChatGenerator(_cfg(server.url, tmp_path))  # a rerun: new client, same cache
    assert again.complete([req]) == ["a rewritten text"]
    assert again.stats["cache_hits"] == 1 and len(server.seen) == n_before


def test_gives_up_after_retries_and_rejects_empty_output(server_factory, tmp_path):
    server = server_factory([500] * 3 + [""])
    gen = OpenAIChatGenerator(_cfg(server.url, tmp_path, max_retries=2))
    reqs = [ChatRequest("rephrase", [{"role": "user", "content": f"q{i}"}]) for i in range(2)]
    assert gen.complete(reqs) == [None, None]
    assert gen.stats["failed"] == 1 and gen.stats["empty"] == 1
    assert not list((tmp_path / "cache").rglob("*.json"))  # failures are never cached


def test_sft_generator_counts_malformed_llm_output(server_factory, tmp_path):
    server = server_factory(['{"instruction": "Why is the sky blue?", "response": "Because air scatters blue light."}',
                             "sure! here you go", "[1, 2]"])
    gen = OpenAIChatGenerator(_cfg(server.url, tmp_path))
    records, counts = short_sft.generate(make_docs(2)[:3], short_sft.ShortSftConfig(), gen, seed=0)
    assert len(records) == 1 and counts["dropped_unparseable"] == 2
    assert records[0]["messages"][-1] == {"role": "assistant", "content": "Because air scatters blue light."}
