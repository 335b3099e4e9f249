"""Flash attention (Triton) against the float64 reference: outputs, LSE and gradients."""

import math

import pytest
import torch

import kernels
from tests.kernels.kernel_checks import DEVICE, DTYPES, TOLERANCE, reference_grads, rel_err

# (B, H, H_kv, T_q, T_k, D): ragged lengths (not multiples of any block), GQA, both head dims
SHAPES = [
    (2, 4, 4, 37, 37, 64),
    (1, 4, 2, 50, 50, 64),    # GQA, 2 query heads per kv head
    (1, 6, 2, 19, 19, 128),   # GQA 3:1, head dim 128
    (1, 2, 1, 21, 53, 64),    # T_q < T_k: a query block after a KV prefix (bottom-right causal)
    (1, 2, 2, 1, 40, 64),     # one-token decode step
]


def _inputs(b, h, h_kv, t_q, t_k, d, dtype):
    q = torch.randn(b, h, t_q, d, device=DEVICE, dtype=dtype)
    k = torch.randn(b, h_kv, t_k, d, device=DEVICE, dtype=dtype)
    v = torch.randn(b, h_kv, t_k, d, device=DEVICE, dtype=dtype)
    return q, k, v


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "full"])
def test_forward_and_backward_match_reference(shape, causal):
    dtype = torch.float32 if shape[-1] == 128 else torch.float16
    q, k, v = (x.requires_grad_() for x in _inputs(*shape, dtype))
    out = kernels.attention(q, k, v, causal=causal, impl="triton")
    assert out.shape == q.shape and out.dtype == dtype
    grad_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, (q, k, v), grad_out)

    ref, ref_grads = reference_grads(lambda *t: kernels.attention_reference(*t, causal=causal),
                                     (q, k, v), grad_out)
    tol = TOLERANCE[dtype]
    assert rel_err(out, ref) < tol
    for name, g, r in zip("qkv", grads, ref_grads, strict=True):
        assert g.shape == r.shape, name
        assert rel_err(g, r) < 2 * tol, f"d{name}"


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_dtypes(dtype):
    q, k, v = (x.requires_grad_() for x in _inputs(1, 2, 1, 45, 45, 64, dtype))
    out = kernels.attention(q, k, v, causal=True, impl="triton")
    grad_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, (q, k, v), grad_out)
    ref, ref_grads = reference_grads(kernels.attention_reference, (q, k, v), grad_out)
    assert rel_err(out, ref) < TOLERANCE[dtype]
    for g, r in zip(grads, ref_grads, strict=True):
        assert rel_err(g, r) < 2 * TOLERANCE[dtype]


def test_log_sum_exp_is_returned_for_the_backward():
    from kernels.triton_attention import flash_attention_forward

    q, k, v = _inputs(1, 2, 2, 33, 33, 64, torch.float32)
    out, lse = flash_attention_forward(q, k, v, causal=True)
    scores = (q.double() @ k.double().transpose(-1, -2)) / math.sqrt(64)
    scores = scores.masked_fill(~kernels.causal_mask(33, 33, DEVICE), float("-inf"))
    assert lse.shape == (1, 2, 33) and lse.dtype == torch.float32
    assert rel_err(lse, torch.logsumexp(scores, dim=-1)) < TOLERANCE[torch.float32]


def test_non_contiguous_inputs_from_a_bthd_layout():
    """The model's projections give (B, T, H, D) viewed as (B, H, T, D): strided, not copied."""
    b, t, h, d = 2, 29, 4, 64
    qkv = torch.randn(b, t, 3 * h, d, device=DEVICE, dtype=torch.float16)
    q, k, v = (x.transpose(1, 2) for x in qkv.split(h, dim=2))
    assert not q.is_contiguous()
    out = kernels.attention(q, k, v, causal=True, impl="triton")
    assert rel_err(out, kernels.attention_reference(q.double(), k.double(), v.double())) < TOLERANCE[torch.float16]


def test_causal_first_row_attends_only_itself():
    # fp16: P = 1 and V are exact tl.dot inputs (fp32 would be rounded to tf32 on a GPU)
    q, k, v = _inputs(1, 1, 1, 20, 20, 64, torch.float16)
    out = kernels.attention(q, k, v, causal=True, impl="triton")
    torch.testing.assert_close(out[0, 0, 0], v[0, 0, 0], rtol=1e-3, atol=1e-3)


def test_rejects_bad_shapes():
    q, k, v = _inputs(1, 3, 2, 16, 16, 64, torch.float32)
    with pytest.raises(ValueError, match="H % Hkv"):
        kernels.attention(q, k, v, impl="triton")
    q, k, v = _inputs(1, 2, 2, 16, 16, 48, torch.float32)
    with pytest.raises(ValueError, match="head dims"):
        kernels.attention(q, k, v, impl="triton")
    q, k, v = _inputs(1, 2, 2, 20, 10, 64, torch.float32)
    with pytest.raises(ValueError, match="T_q <= T_k"):
        kernels.attention(q, k, v, causal=True, impl="triton")


def test_reference_matches_torch_sdpa():
    """The reference itself is checked against PyTorch's SDPA (causal, GQA expanded)."""
    q, k, v = _inputs(2, 4, 2, 24, 24, 64, torch.float32)
    ref = kernels.attention_reference(q, k, v, causal=True)
    sdpa = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1), is_causal=True)
    torch.testing.assert_close(ref, sdpa, rtol=1e-4, atol=1e-5)
