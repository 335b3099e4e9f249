"""Starting and stopping the engine: the real vLLM answers chat completions; an engine that dies or
never becomes healthy gives a clear error with its log tail and leaves no process behind."""

import os
import time
from pathlib import Path

import pytest

from pipeline.llm.serve import EngineError, ServeConfig, VLLMServer
from pipeline.synth.generator import ChatRequest
from pipeline.synth.llm_client import LLMConfig, OpenAIChatGenerator


def _fake_engine(tmp_path: Path, body: str) -> ServeConfig:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    script = tmp_path / "python"
    script.write_text(f"#!/bin/bash\n{body}\n")
    script.chmod(0o755)
    return ServeConfig(model_path=str(model), python=str(script), start_timeout_s=3)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_engine_that_exits_reports_its_log_tail(tmp_path):
    cfg = _fake_engine(tmp_path, 'echo "ValueError: not enough KV cache memory"; exit 3')
    log = tmp_path / "run" / "_llm_journal" / "engine.log"  # a run's first LLM stage: the folder is not there yet
    with pytest.raises(EngineError, match="exited with 3(.|\n)*not enough KV cache memory"):
        VLLMServer(cfg, log).start()
    assert "not enough KV cache memory" in log.read_text()


def test_engine_that_hangs_is_killed_with_its_workers(tmp_path):
    # the "engine" forks a worker that ignores SIGTERM (as a stuck engine core might), then never serves
    pids = tmp_path / "pids"
    cfg = _fake_engine(tmp_path, f"(trap '' TERM; sleep 300) & echo $! > {pids}; echo loading; sleep 300")
    with pytest.raises(EngineError, match="not healthy after 3s(.|\n)*loading"):
        VLLMServer(cfg, tmp_path / "engine.log").start()
    worker = int(pids.read_text())
    deadline = time.monotonic() + 5
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the engine's worker outlived stop()"


def test_not_a_model_folder_is_refused(tmp_path):
    with pytest.raises(EngineError, match="not an HF model folder"):
        VLLMServer(ServeConfig(model_path=str(tmp_path)))


@pytest.mark.slow
def test_real_engine_answers_chat(vllm_server):
    gen = OpenAIChatGenerator(LLMConfig(base_url=vllm_server.base_url, model=vllm_server.model,
                                        max_tokens=16, temperature=0.0))
    out = gen.complete([ChatRequest("chat", [{"role": "user", "content": "What is the capital of France?"}])])
    assert out[0] and "paris" in out[0].lower()
    assert gen.stats["ok"] == 1 and gen.stats["failed"] == 0


def test_relative_model_folder_reaches_the_engine_absolute(tmp_path, monkeypatch):
    # the engine runs in the temp dir: a relative folder there reads as a Hub repo id (HFValidationError, seen)
    (tmp_path / "m" / "hf").mkdir(parents=True)
    (tmp_path / "m" / "hf" / "config.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    cmd = VLLMServer(ServeConfig(model_path="m/hf"), tmp_path / "log").command()
    assert cmd[cmd.index("--model") + 1] == str(tmp_path / "m" / "hf")
