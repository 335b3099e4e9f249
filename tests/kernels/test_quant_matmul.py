"""int8 / int4 weight-only matmul (Triton) against dequantise-then-matmul in float64."""

import pytest
import torch

import kernels
from kernels import quantize_int4_groupwise, quantize_int8_per_channel
from tests.kernels.kernel_checks import DEVICE, DTYPES, TOLERANCE, rel_err


def _check(x, qweight, scales, zeros, bits, group_size):
    out = kernels.quant_matmul(x, qweight, scales, zeros, bits, group_size, impl="triton")
    ref = kernels.quant_matmul_reference(x.double(), qweight, scales, zeros, bits, group_size)
    assert out.shape == (*x.shape[:-1], qweight.shape[0]) and out.dtype == x.dtype
    assert rel_err(out, ref) < TOLERANCE[x.dtype]


# M = 1 and 3 take the split-K decode path, M = 37 the GEMM (prefill) path; N = 72 is ragged.
@pytest.mark.parametrize("m", [1, 3, 37])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_int8_per_channel(m, dtype):
    q, s = quantize_int8_per_channel(torch.randn(72, 192, device=DEVICE))
    _check(torch.randn(m, 192, device=DEVICE, dtype=dtype), q, s, None, 8, None)


@pytest.mark.parametrize("m", [1, 37])
@pytest.mark.parametrize("group_size", [64, 128])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_int4_groupwise(m, group_size, dtype):
    packed, s, z = quantize_int4_groupwise(torch.randn(72, 256, device=DEVICE), group_size)
    _check(torch.randn(m, 256, device=DEVICE, dtype=dtype), packed, s.to(dtype), z, 4, group_size)


def test_int4_symmetric_without_zeros_and_batched_input():
    packed, s, _ = quantize_int4_groupwise(torch.randn(40, 128, device=DEVICE), 64)
    _check(torch.randn(2, 3, 128, device=DEVICE, dtype=torch.float16), packed, s, None, 4, 64)


def test_int4_per_channel_group_none():
    w = torch.randn(24, 96, device=DEVICE)
    packed, s, z = quantize_int4_groupwise(w, 96)
    _check(torch.randn(5, 96, device=DEVICE), packed, s, z, 4, None)


def test_quantized_matmul_is_close_to_the_float_matmul():
    """End to end: quantize a weight, multiply, compare with the unquantized product."""
    w = torch.randn(64, 256, device=DEVICE) * 0.02
    x = torch.randn(4, 256, device=DEVICE)
    exact = x @ w.t()
    q8, s8 = quantize_int8_per_channel(w)
    assert rel_err(kernels.quant_matmul(x, q8, s8, None, 8, None, impl="triton"), exact) < 0.01
    p4, s4, z4 = quantize_int4_groupwise(w, 64)
    assert rel_err(kernels.quant_matmul(x, p4, s4, z4, 4, 64, impl="triton"), exact) < 0.15


def test_rejects_mismatched_shapes():
    q, s = quantize_int8_per_channel(torch.randn(8, 64, device=DEVICE))
    with pytest.raises(ValueError):
        kernels.quant_matmul(torch.randn(2, 32, device=DEVICE), q, s, None, 8, None, impl="triton")
    with pytest.raises(ValueError):
        kernels.quant_matmul(torch.randn(2, 64, device=DEVICE), q, s, None, 3, None, impl="triton")


@pytest.mark.parametrize("m", [1, 37])
def test_ragged_k_takes_the_masked_path(m):
    """K not a multiple of the K-tile (per-channel formats only: groups always divide K)."""
    q, s = quantize_int8_per_channel(torch.randn(24, 200, device=DEVICE))
    _check(torch.randn(m, 200, device=DEVICE, dtype=torch.float16), q, s, None, 8, None)
    packed, s4, z4 = quantize_int4_groupwise(torch.randn(24, 100, device=DEVICE), 100)
    _check(torch.randn(m, 100, device=DEVICE, dtype=torch.float16), packed, s4, z4, 4, None)
