"""Resumable LLM work: a run killed half way keeps its journaled responses and the rerun sends only the
missing requests (real engine); a torn journal line is ignored; failures are never journaled."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.llm.journal import Journal
from pipeline.synth.generator import ChatRequest
from pipeline.synth.llm_client import LLMConfig, OpenAIChatGenerator

REPO = Path(__file__).resolve().parents[2]
N = 12

CHILD = """
import sys
from pipeline.llm.journal import Journal
from pipeline.synth.llm_client import LLMConfig, OpenAIChatGenerator
from tests.llm.test_resume import requests_
url, model, path = sys.argv[1:4]
gen = OpenAIChatGenerator(LLMConfig(base_url=url, model=model, max_tokens=32, temperature=0.0,
                                    max_concurrency=2), journal=Journal(path))
gen.complete(requests_())
"""


def requests_() -> list[ChatRequest]:
    return [ChatRequest("chat", [{"role": "user", "content": f"Write one sentence about the number {i}."}])
            for i in range(N)]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0


@pytest.mark.slow
def test_killed_run_resumes_sending_only_missing_requests(vllm_server, tmp_path):
    journal = tmp_path / "journal" / "part00000.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, vllm_server.base_url, vllm_server.model, str(journal)],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    deadline = time.monotonic() + 180
    while _lines(journal) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)  # mid-run: some answered and journaled, others in flight or unsent
    child.wait()
    done = Journal(journal)
    k = len(done)
    done.close()
    assert 3 <= k < N

    gen = OpenAIChatGenerator(LLMConfig(base_url=vllm_server.base_url, model=vllm_server.model, max_tokens=32,
                                        temperature=0.0, max_concurrency=8), journal=Journal(journal))
    out = gen.complete(requests_())
    assert all(out)
    assert gen.stats["journal_hits"] == k and gen.stats["requests"] == N - k and gen.stats["failed"] == 0
    assert gen.stats["completion_tokens"] > 0 and gen.stats["prompt_tokens"] > 0
    gen.journal.close()
    assert len(Journal(journal)) == N


def test_journal_ignores_a_torn_line_and_reads_sibling_partitions(tmp_path):
    a = Journal(tmp_path / "part0.jsonl")
    a.put("k1", "one", {"completion_tokens": 3})
    a.close()
    with open(tmp_path / "part0.jsonl", "a") as f:
        f.write('{"key": "k2", "cont')  # what a kill during a write leaves
    (tmp_path / "part1.jsonl").write_text(json.dumps({"key": "k3", "content": "three"}) + "\n")
    b = Journal(tmp_path / "part0.jsonl")
    assert b.get("k1")["content"] == "one" and b.get("k3")["content"] == "three" and b.get("k2") is None
    assert b.torn_lines == 1 and len(b) == 2
    b.close()


def test_failed_requests_are_set_aside_not_journaled(tmp_path):
    gen = OpenAIChatGenerator(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=1, backoff_s=0.01,
                                        timeout_s=0.5), journal=Journal(tmp_path / "j.jsonl"))
    assert gen.complete([ChatRequest("chat", [{"role": "user", "content": "hi"}])]) == [None]
    assert gen.stats["failed"] == 1 and gen.stats["requests"] == 2 and len(gen.journal) == 0
