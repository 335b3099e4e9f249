"""Fused RMSNorm forward and backward in Triton.

Forward: one program per row, one pass: load x, reduce sum(x^2), scale by rstd and weight, store
y and rstd (fp32, for the backward). Backward: a persistent grid of programs, each walking a
strided set of rows; dx is computed per row from the saved rstd,
``dx = rstd * (dy*w - x_hat * mean(dy*w*x_hat))``, and dw is accumulated per program in fp32 and
summed over programs at the end (one small reduction instead of atomics).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._triton_support import INTERPRET, check_device

MAX_FUSED_SIZE = 65536  # one row must fit in one program's registers/shared memory


def _num_warps(block: int) -> int:
    return max(1, min(16, block // 256))


@triton.jit
def _rms_norm_fwd(X, W, Y, RSTD, stride_x, stride_y, N, eps, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    x = tl.load(X + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / N + eps)
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(Y + row * stride_y + cols, (x * rstd * w).to(Y.dtype.element_ty), mask=mask)
    tl.store(RSTD + row, rstd)


@triton.jit
def _rms_norm_bwd(DY, X, W, RSTD, DX, DW_PARTIAL, stride_dy, stride_x, stride_dx, M, N,
                  BLOCK_N: tl.constexpr):
    pid = tl.program_id(0)
    n_prog = tl.num_programs(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    dw = tl.zeros([BLOCK_N], dtype=tl.float32)
    pid64 = pid.to(tl.int64)
    for i in range(0, tl.cdiv(M - pid, n_prog)):
        row64 = pid64 + i * n_prog
        x = tl.load(X + row64 * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(DY + row64 * stride_dy + cols, mask=mask, other=0.0).to(tl.float32)
        rstd = tl.load(RSTD + row64)
        x_hat = x * rstd
        wdy = w * dy
        c = tl.sum(x_hat * wdy, axis=0) / N
        dx = (wdy - x_hat * c) * rstd
        tl.store(DX + row64 * stride_dx + cols, dx.to(DX.dtype.element_ty), mask=mask)
        dw += dy * x_hat
    tl.store(DW_PARTIAL + pid64 * N + cols, dw, mask=mask)


def _as_rows(x: torch.Tensor) -> torch.Tensor:
    x2 = x.reshape(-1, x.shape[-1])
    return x2 if x2.stride(-1) == 1 else x2.contiguous()


def rms_norm_forward(x: torch.Tensor, weight: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns ``(y, rstd)``; y has x's shape and dtype, rstd is fp32 of shape (rows,)."""
    check_device(x, weight)
    n = x.shape[-1]
    if weight.shape != (n,):
        raise ValueError(f"weight shape {tuple(weight.shape)} does not match hidden size {n}")
    if n > MAX_FUSED_SIZE:
        raise ValueError(f"fused RMSNorm supports hidden sizes up to {MAX_FUSED_SIZE}, got {n}")
    x2 = _as_rows(x)
    m = x2.shape[0]
    y = torch.empty((m, n), device=x.device, dtype=x.dtype)
    rstd = torch.empty((m,), device=x.device, dtype=torch.float32)
    block = triton.next_power_of_2(n)
    if m:
        _rms_norm_fwd[(m,)](x2, weight, y, rstd, x2.stride(0), y.stride(0), n, eps,
                            BLOCK_N=block, num_warps=_num_warps(block))
    return y.reshape(x.shape), rstd


def rms_norm_backward(dy: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
                      rstd: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n = x.shape[-1]
    x2, dy2 = _as_rows(x), _as_rows(dy)
    m = x2.shape[0]
    dx = torch.empty((m, n), device=x.device, dtype=x.dtype)
    if INTERPRET:
        n_prog = min(m, 4)
    else:
        n_prog = min(m, 4 * torch.cuda.get_device_properties(x.device).multi_processor_count)
    n_prog = max(n_prog, 1)
    dw_partial = torch.zeros((n_prog, n), device=x.device, dtype=torch.float32)
    block = triton.next_power_of_2(n)
    if m:
        _rms_norm_bwd[(n_prog,)](dy2, x2, weight, rstd, dx, dw_partial, dy2.stride(0), x2.stride(0),
                                 dx.stride(0), m, n, BLOCK_N=block, num_warps=_num_warps(block))
    return dx.reshape(x.shape), dw_partial.sum(0).to(weight.dtype)


class RMSNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, eps):
        y, rstd = rms_norm_forward(x, weight, eps)
        ctx.save_for_backward(x, weight, rstd)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, rstd = ctx.saved_tensors
        dx, dw = rms_norm_backward(dy, x, weight, rstd)
        return dx, dw, None


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return RMSNormFunction.apply(x, weight, eps)
