"""The real LLM engine for tests: SmolLM2-135M-Instruct (imported offline from its PyPI wheel) served by
vLLM from `.venv-llm`, started ONCE per test session and stopped at its end.

    def test_x(vllm_server):
        base_url, model = vllm_server          # "http://127.0.0.1:PORT/v1", "smollm2-135m-instruct"

Registered in tests/conftest.py. Tests that use it need `.venv-llm` (`make setup` builds it); without it
they are skipped with that reason. LLM_TEST_ENDPOINT=http://127.0.0.1:PORT/v1 uses a server already running
(by hand: `python -m pipeline.llm.serve --model DIR`) instead of starting one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parent.parent
MODEL_NAME = "smollm2-135m-instruct"


class LLMEndpoint(NamedTuple):
    base_url: str
    model: str


@pytest.fixture(scope="session")
def smollm2_hf(tmp_path_factory) -> Path:
    """SmolLM2-135M-Instruct as an HF safetensors folder (`trainer import-model`'s DIR/hf)."""
    from trainer.cli import main

    out = tmp_path_factory.mktemp("llm-model") / MODEL_NAME
    assert main(["import-model", "--source", MODEL_NAME, "--out", str(out)]) == 0
    return out / "hf"


@pytest.fixture(scope="session")
def vllm_server(request, tmp_path_factory):
    """(base_url, model) of a vLLM server for the whole session; its log is in the session's tmp dir."""
    from pipeline.llm.endpoint import served_model
    from pipeline.llm.serve import ServeConfig, VLLMServer, engine_python

    if os.environ.get("LLM_TEST_ENDPOINT"):
        url = os.environ["LLM_TEST_ENDPOINT"]
        yield LLMEndpoint(url, served_model(url))
        return
    smollm2_hf = request.getfixturevalue("smollm2_hf")
    cfg = ServeConfig(model_path=str(smollm2_hf), served_name=MODEL_NAME, max_model_len=4096,
                      start_timeout_s=float(os.environ.get("LLM_TEST_START_TIMEOUT_S", "400")))
    if not Path(engine_python(cfg)).exists():
        reason = f"no LLM engine venv at {engine_python(cfg)} (make setup-llm)"
        if os.environ.get("CI"):  # CI's `make test` builds it: a missing engine there is a failure, not a skip
            pytest.fail(reason)
        pytest.skip(reason)
    server = VLLMServer(cfg, tmp_path_factory.mktemp("vllm") / "engine.log").start()
    try:
        yield LLMEndpoint(server.base_url, server.model)
    finally:
        server.stop()
