"""The shared packing format and quantize helpers (plain torch, no Triton)."""

import pytest
import torch

from kernels import dequantize, pack_int4, quantize_int4_groupwise, quantize_int8_per_channel, unpack_int4


def test_pack_int4_layout_low_nibble_first():
    q = torch.tensor([[1, 2, 15, 0]], dtype=torch.uint8)
    packed = pack_int4(q)
    assert packed.tolist() == [[0x21, 0x0F]]
    assert torch.equal(unpack_int4(packed), q)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_pack_unpack_round_trip(dim):
    q = torch.randint(0, 16, (6, 8), dtype=torch.uint8)
    packed = pack_int4(q, dim=dim)
    assert packed.shape[dim] == q.shape[dim] // 2
    assert torch.equal(unpack_int4(packed, dim=dim), q)


def test_pack_rejects_bad_input():
    with pytest.raises(ValueError):
        pack_int4(torch.zeros(2, 3, dtype=torch.uint8))
    with pytest.raises(ValueError):
        pack_int4(torch.full((2, 2), 16, dtype=torch.uint8))
    with pytest.raises(TypeError):
        pack_int4(torch.zeros(2, 2, dtype=torch.int32))


def test_int8_per_channel_error_bound():
    w = torch.randn(48, 96)
    q, s = quantize_int8_per_channel(w)
    assert q.dtype == torch.int8 and s.shape == (48,)
    w_hat = dequantize(q, s, None, bits=8, group_size=None)
    # round-to-nearest: at most half a step per element
    assert ((w_hat - w).abs() <= s[:, None] / 2 + 1e-6).all()


@pytest.mark.parametrize("group_size", [32, 64, 128])
def test_int4_groupwise_error_bound(group_size):
    w = torch.randn(40, 256) * 0.02
    packed, scales, zeros = quantize_int4_groupwise(w, group_size)
    assert packed.shape == (40, 128) and packed.dtype == torch.uint8
    assert scales.shape == zeros.shape == (40, 256 // group_size)
    assert int(zeros.max()) <= 15
    w_hat = dequantize(packed, scales, zeros, bits=4, group_size=group_size)
    step = scales.float().repeat_interleave(group_size, dim=1)
    assert ((w_hat - w).abs() <= step / 2 + 1e-7).all()


def test_int4_keeps_weight_dtype_for_scales():
    w = torch.randn(8, 64, dtype=torch.bfloat16)
    _, scales, zeros = quantize_int4_groupwise(w, 64)
    assert scales.dtype == torch.bfloat16 and zeros.dtype == torch.uint8


def test_group_size_must_divide_k():
    with pytest.raises(ValueError):
        quantize_int4_groupwise(torch.randn(4, 100), 64)
