"""Rotary position embedding in one Triton kernel ("rotate halves" layout, as HF Llama).

Feature i is rotated with feature i + D/2 by angle theta(t, i): one read of x and of the (T, D/2)
cos/sin tables, one write. The rotation is orthogonal, so the backward is the same kernel with
the angle negated (sin -> -sin); cos/sin are treated as constants (no gradient).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._triton_support import check_device

BLOCK_T = 16


@triton.jit
def _rope_kernel(X, COS, SIN, OUT, H, T, HALF,
                 stride_xb, stride_xh, stride_xt, stride_ob, stride_oh, stride_ot, stride_ct, stride_st,
                 SIGN: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_HALF: tl.constexpr):
    pid_t = tl.program_id(0)
    bh = tl.program_id(1)
    b = (bh // H).to(tl.int64)
    h = (bh % H).to(tl.int64)
    rows = pid_t * BLOCK_T + tl.arange(0, BLOCK_T)
    cols = tl.arange(0, BLOCK_HALF)
    mask = (rows[:, None] < T) & (cols[None, :] < HALF)
    x_ptr = X + b * stride_xb + h * stride_xh + rows[:, None] * stride_xt + cols[None, :]
    x1 = tl.load(x_ptr, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(x_ptr + HALF, mask=mask, other=0.0).to(tl.float32)
    c = tl.load(COS + rows[:, None] * stride_ct + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    s = tl.load(SIN + rows[:, None] * stride_st + cols[None, :], mask=mask, other=0.0).to(tl.float32) * SIGN
    o_ptr = OUT + b * stride_ob + h * stride_oh + rows[:, None] * stride_ot + cols[None, :]
    tl.store(o_ptr, (x1 * c - x2 * s).to(OUT.dtype.element_ty), mask=mask)
    tl.store(o_ptr + HALF, (x2 * c + x1 * s).to(OUT.dtype.element_ty), mask=mask)


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, sign: int) -> torch.Tensor:
    check_device(x, cos, sin)
    if x.ndim != 4 or x.shape[-1] % 2:
        raise ValueError(f"expected x (B, H, T, D) with even D, got {tuple(x.shape)}")
    b, h, t, d = x.shape
    half = d // 2
    if cos.shape != (t, half) or sin.shape != (t, half):
        raise ValueError(f"cos/sin must be (T, D/2) = {(t, half)}, got {tuple(cos.shape)}, {tuple(sin.shape)}")
    if x.stride(-1) != 1:
        x = x.contiguous()
    cos = cos if cos.stride(-1) == 1 else cos.contiguous()
    sin = sin if sin.stride(-1) == 1 else sin.contiguous()
    out = torch.empty((b, h, t, d), device=x.device, dtype=x.dtype)
    if out.numel():
        block_half = triton.next_power_of_2(half)
        grid = (triton.cdiv(t, BLOCK_T), b * h)
        _rope_kernel[grid](x, cos, sin, out, h, t, half,
                           x.stride(0), x.stride(1), x.stride(2), out.stride(0), out.stride(1), out.stride(2),
                           cos.stride(0), sin.stride(0), SIGN=sign, BLOCK_T=BLOCK_T, BLOCK_HALF=block_half,
                           num_warps=4)
    return out


class RopeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cos, sin):
        ctx.save_for_backward(cos, sin)
        return _rope(x, cos, sin, 1)

    @staticmethod
    def backward(ctx, dout):
        cos, sin = ctx.saved_tensors
        return _rope(dout, cos, sin, -1), None, None


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return RopeFunction.apply(x, cos, sin)
