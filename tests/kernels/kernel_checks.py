"""What the kernel tests share: the device they run on, the dtypes, the error bounds."""

import os

import torch

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
DEVICE = "cpu" if INTERPRET or not torch.cuda.is_available() else "cuda"

# bf16 tl.dot gives wrong results in the interpreter: bf16 is only tested compiled, on a GPU.
DTYPES = [torch.float32, torch.float16] if INTERPRET else [torch.float32, torch.float16, torch.bfloat16]

# Relative L2 error bounds against a float64 reference. Compiled fp32 tl.dot runs in tf32.
TOLERANCE = {
    torch.float32: 1e-5 if INTERPRET else 5e-3,
    torch.float16: 3e-3,
    torch.bfloat16: 2e-2,
}


def rel_err(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """||actual - expected|| / ||expected||, in float64 on the CPU; fails on NaN/inf."""
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    assert torch.isfinite(a).all(), "non-finite values in kernel output"
    return ((a - e).norm() / e.norm().clamp_min(1e-30)).item()


def reference_grads(fn, inputs, grad_out):
    """Run ``fn`` on float64 copies of ``inputs`` and return (output, grads) as the reference."""
    leaves = [x.detach().double().requires_grad_() for x in inputs]
    out = fn(*leaves)
    grads = torch.autograd.grad(out, leaves, grad_out.double())
    return out, grads
