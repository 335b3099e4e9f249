"""Fused RMSNorm and RoPE (Triton) against the float64 references, forward and backward."""

import pytest
import torch

import kernels
from tests.kernels.kernel_checks import DEVICE, DTYPES, TOLERANCE, reference_grads, rel_err


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(3, 7, 200), (5, 64), (1, 1, 96)], ids=str)
def test_rms_norm_forward_backward(shape, dtype):
    x = torch.randn(*shape, device=DEVICE, dtype=dtype, requires_grad=True)
    w = (1 + 0.1 * torch.randn(shape[-1], device=DEVICE)).to(dtype).requires_grad_()
    y = kernels.rms_norm(x, w, eps=1e-5, impl="triton")
    assert y.shape == x.shape and y.dtype == dtype
    dy = torch.randn_like(y)
    dx, dw = torch.autograd.grad(y, (x, w), dy)
    ref, (rdx, rdw) = reference_grads(lambda a, b: kernels.rms_norm_reference(a, b, eps=1e-5), (x, w), dy)
    tol = TOLERANCE[dtype]
    assert rel_err(y, ref) < tol
    assert rel_err(dx, rdx) < 2 * tol
    assert rel_err(dw, rdw) < 2 * tol


def test_rms_norm_reference_matches_the_definition():
    x = torch.randn(4, 32, dtype=torch.float64)
    w = torch.randn(32, dtype=torch.float64)
    expected = x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-6) * w
    torch.testing.assert_close(kernels.rms_norm_reference(x, w), expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 37, 64), (1, 2, 5, 128), (1, 1, 19, 48)], ids=str)
def test_rope_forward_backward(shape, dtype):
    b, h, t, d = shape
    x = torch.randn(*shape, device=DEVICE, dtype=dtype, requires_grad=True)
    cos, sin = kernels.rope_cos_sin(t, d, device=DEVICE)
    y = kernels.apply_rope(x, cos, sin, impl="triton")
    dy = torch.randn_like(y)
    (dx,) = torch.autograd.grad(y, (x,), dy)
    ref, (rdx,) = reference_grads(lambda a: kernels.rope_reference(a, cos.double(), sin.double()), (x,), dy)
    assert rel_err(y, ref) < TOLERANCE[dtype]
    assert rel_err(dx, rdx) < TOLERANCE[dtype]


def test_rope_on_a_transposed_view():
    x = torch.randn(2, 21, 4, 64, device=DEVICE).transpose(1, 2)  # (B, H, T, D) view of (B, T, H, D)
    cos, sin = kernels.rope_cos_sin(21, 64, device=DEVICE)
    out = kernels.apply_rope(x, cos, sin, impl="triton")
    assert rel_err(out, kernels.rope_reference(x.double(), cos.double(), sin.double())) < TOLERANCE[torch.float32]


def _hf_llama_rope(x, cos_full, sin_full):
    """HF transformers' Llama apply_rotary_pos_emb / rotate_half, written out."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos_full + rotated * sin_full


def test_rope_layout_is_hf_llama_rotate_half():
    t, d = 11, 64
    x = torch.randn(1, 2, t, d, dtype=torch.float64)
    cos, sin = kernels.rope_cos_sin(t, d)
    # HF builds width-D tables by repeating the D/2 frequencies: emb = cat(freqs, freqs)
    cos_full, sin_full = torch.cat((cos, cos), -1).double(), torch.cat((sin, sin), -1).double()
    expected = _hf_llama_rope(x, cos_full, sin_full)
    torch.testing.assert_close(kernels.rope_reference(x, cos.double(), sin.double()), expected)
    torch.testing.assert_close(kernels.apply_rope(x.float().to(DEVICE), cos.to(DEVICE), sin.to(DEVICE),
                                                  impl="triton").double().cpu(),
                               expected, rtol=1e-5, atol=1e-5)


def test_rope_matches_transformers_when_installed():
    llama = pytest.importorskip("transformers.models.llama.modeling_llama")
    t, d = 9, 32
    q = torch.randn(1, 2, t, d)
    cos, sin = kernels.rope_cos_sin(t, d)
    q_hf, _ = llama.apply_rotary_pos_emb(q, q, torch.cat((cos, cos), -1)[None], torch.cat((sin, sin), -1)[None])
    torch.testing.assert_close(kernels.rope_reference(q, cos, sin), q_hf, rtol=1e-6, atol=1e-6)


def test_rope_preserves_norm_and_relative_positions():
    """Rotation keeps each pair's norm; <rope(q)_i, rope(k)_j> depends on i - j only."""
    d = 32
    cos, sin = kernels.rope_cos_sin(8, d)
    q = torch.randn(d, dtype=torch.float64).expand(1, 1, 8, d)
    rq = kernels.rope_reference(q, cos.double(), sin.double())
    torch.testing.assert_close(rq.norm(dim=-1), q.norm(dim=-1))
    dots = (rq[0, 0] @ rq[0, 0].T)
    torch.testing.assert_close(torch.diagonal(dots, 1)[:-1], torch.diagonal(dots, 1)[1:])
