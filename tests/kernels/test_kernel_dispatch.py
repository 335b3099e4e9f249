"""The dispatcher: device choice, the KERNELS_IMPL override, and imports without triton."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import kernels
from kernels.dispatch import resolve_impl

REPO = Path(__file__).resolve().parents[2]


def test_cpu_tensors_use_the_torch_reference(monkeypatch):
    monkeypatch.delenv("KERNELS_IMPL", raising=False)
    assert resolve_impl(None, torch.zeros(1)) == ("torch", False)
    q = torch.randn(1, 2, 8, 16)
    torch.testing.assert_close(kernels.attention(q, q, q), kernels.attention_reference(q, q, q))


def test_environment_override(monkeypatch):
    monkeypatch.setenv("KERNELS_IMPL", "triton")
    assert resolve_impl(None, torch.zeros(1)) == ("triton", True)
    assert resolve_impl("torch", torch.zeros(1)) == ("torch", True)  # the argument wins
    monkeypatch.setenv("KERNELS_IMPL", "auto")
    assert resolve_impl(None, torch.zeros(1))[1] is False


def test_unknown_impl_is_rejected():
    with pytest.raises(ValueError, match="impl"):
        kernels.rms_norm(torch.ones(2, 4), torch.ones(4), impl="cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_env_override_runs_triton_under_the_interpreter(monkeypatch):
    monkeypatch.setenv("KERNELS_IMPL", "triton")
    x, w = torch.randn(3, 40), torch.rand(40)
    torch.testing.assert_close(kernels.rms_norm(x, w), kernels.rms_norm_reference(x, w))


def _run(code: str, env_update: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TRITON_INTERPRET", "KERNELS_IMPL")}
    env.update(env_update)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_and_torch_path_work_without_triton():
    code = """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "triton" or name.startswith("triton."):
                    raise ImportError("triton blocked for this test")
        sys.meta_path.insert(0, Block())
        import torch, kernels
        assert "triton" not in sys.modules
        q = torch.randn(1, 2, 8, 16)
        kernels.attention(q, q, q)
        kernels.rms_norm(q, torch.ones(16))
        print("ok")
    """
    result = _run(code, {})
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_triton_on_cpu_without_interpreter_says_what_to_do():
    code = """
        import torch, kernels
        x = torch.randn(2, 8)
        try:
            kernels.rms_norm(x, torch.ones(8), impl="triton")
        except RuntimeError as e:
            print("ERR", e)
    """
    result = _run(code, {})
    assert "TRITON_INTERPRET=1" in result.stdout, result.stderr
