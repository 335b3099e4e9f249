"""Weight-only quantized matmul in Triton: y = x @ dequant(W)^T, dequantising inside the kernel.

Formats are those of ``kernels.quant_format`` (int8 per output channel, int4 group-wise packed
two per byte along K). Weights stay packed in memory; each program loads a (K-tile, N-tile) of
codes, subtracts the zero point (exact integers in fp16/bf16), runs the tensor-core dot in x's
dtype and applies the per-group scale to the fp32 partial product, so scales cost a multiply per
output element per group rather than per weight.

int4: byte j of a row holds codes 2j (low nibble) and 2j+1 (high nibble), so a tile of bytes is
split into its even-k and odd-k halves and dotted with the even and odd columns of x: no
interleave inside the kernel.

Two launch shapes share the kernel: prefill (GEMM, M > 16) tiles M and N; decode (GEMV-like,
M <= 16) has too few (M, N) tiles to fill the GPU, so K is also split across programs
(split-K), which accumulate into an fp32 buffer with atomics.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._triton_support import autotune_configs, check_device

DECODE_MAX_M = 16
INT4_DEFAULT_ZERO = 8


def _cfg(bm, bn, bk, split_k, warps, stages):
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "SPLIT_K": split_k},
                         num_warps=warps, num_stages=stages)


_DECODE_CONFIGS = autotune_configs(
    [_cfg(16, 64, 128, 4, 4, 4), _cfg(16, 32, 128, 2, 4, 4), _cfg(16, 128, 128, 4, 4, 3),
     _cfg(16, 64, 64, 8, 4, 4), _cfg(16, 64, 256, 2, 4, 3), _cfg(16, 64, 128, 8, 4, 4),
     _cfg(16, 128, 128, 8, 4, 3)],
    _cfg(16, 64, 32, 4, 4, 2),
    _cfg(16, 32, 32, 2, 4, 1),
)
_PREFILL_CONFIGS = autotune_configs(
    [_cfg(128, 128, 64, 1, 8, 3), _cfg(128, 64, 64, 1, 4, 4), _cfg(64, 128, 64, 1, 4, 4)],
    _cfg(64, 64, 32, 1, 4, 2),
    _cfg(16, 32, 32, 1, 4, 1),
)


def _prune(configs, named_args, **kwargs):
    """A K-tile must lie inside one quantization group (one scale per tile and column)."""
    group = kwargs.get("GROUP", named_args.get("GROUP", 0))
    kept = [c for c in configs if group == 0 or group % c.kwargs["BLOCK_K"] == 0]
    return kept or [min(configs, key=lambda c: c.kwargs["BLOCK_K"])]


@triton.heuristics({"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0})
@triton.jit
def _qmm_kernel(X, W, S, Z, OUT, M, N, K,
                stride_xm, stride_xk, stride_wn, stride_wk, stride_sn, stride_sg, stride_zn, stride_zg,
                stride_om, stride_on,
                BITS: tl.constexpr, GROUP: tl.constexpr, HAS_ZERO: tl.constexpr, DEFAULT_ZERO: tl.constexpr,
                ATOMIC: tl.constexpr, M_BUCKET: tl.constexpr, EVEN_K: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, SPLIT_K: tl.constexpr):
    # M_BUCKET (next power of two of M) only keys the autotuner cache: decode M=1 and M=16 may
    # want different tiles, prefill lengths should not each trigger a new search.
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    pid_k = tl.program_id(2)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    m_ok = offs_m < M
    n_ok = offs_n < N
    x_rows = X + offs_m[:, None].to(tl.int64) * stride_xm
    w_cols = W + offs_n[None, :].to(tl.int64) * stride_wn
    acc = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32)
    if HAS_ZERO:
        z = tl.load(Z + offs_n * stride_zn, mask=n_ok, other=0).to(tl.float32)
    else:
        z = tl.zeros([BLOCK_N], dtype=tl.float32) + DEFAULT_ZERO
    for kt in range(pid_k, tl.cdiv(K, BLOCK_K), SPLIT_K):
        k0 = kt * BLOCK_K
        if GROUP > 0:  # noqa: SIM102 (constexpr conditions, kept apart for the compiler)
            if HAS_ZERO:
                z = tl.load(Z + offs_n * stride_zn + (k0 // GROUP) * stride_zg, mask=n_ok, other=0).to(tl.float32)
        offs_k = k0 + tl.arange(0, BLOCK_K)
        # EVEN_K: no mask along K, the contiguous dim, so loads stay 16-byte vectors and the
        # pipeliner can stage them through shared memory (it skips loads under 4 bytes).
        if EVEN_K:
            x = tl.load(x_rows + offs_k[None, :] * stride_xk, mask=m_ok[:, None], other=0.0)
        else:
            x = tl.load(x_rows + offs_k[None, :] * stride_xk, mask=m_ok[:, None] & (offs_k < K)[None, :], other=0.0)
        if BITS == 8:
            if EVEN_K:
                w = tl.load(w_cols + offs_k[:, None] * stride_wk, mask=n_ok[None, :], other=0)
            else:
                w = tl.load(w_cols + offs_k[:, None] * stride_wk, mask=(offs_k < K)[:, None] & n_ok[None, :], other=0)
            part = tl.dot(x, (w.to(tl.float32) - z[None, :]).to(x.dtype))
        else:
            offs_b = k0 // 2 + tl.arange(0, BLOCK_K // 2)  # byte index along the packed K
            if EVEN_K:
                packed = tl.load(w_cols + offs_b[:, None] * stride_wk, mask=n_ok[None, :], other=0)
            else:
                packed = tl.load(w_cols + offs_b[:, None] * stride_wk,
                                 mask=(offs_b < K // 2)[:, None] & n_ok[None, :], other=0)
            # x's even and odd columns meet the low and high nibbles
            x_even, x_odd = tl.split(tl.reshape(x, (BLOCK_M, BLOCK_K // 2, 2)))
            w_even = ((packed & 0xF).to(tl.float32) - z[None, :]).to(x_even.dtype)
            w_odd = ((packed >> 4).to(tl.float32) - z[None, :]).to(x_even.dtype)
            part = tl.dot(x_even, w_even)
            part = tl.dot(x_odd, w_odd, part)
        if GROUP > 0:
            s = tl.load(S + offs_n * stride_sn + (k0 // GROUP) * stride_sg, mask=n_ok, other=0.0).to(tl.float32)
            acc += part * s[None, :]
        else:
            acc += part
    if GROUP == 0:
        acc = acc * tl.load(S + offs_n * stride_sn, mask=n_ok, other=0.0).to(tl.float32)[None, :]
    out_ptrs = OUT + offs_m[:, None].to(tl.int64) * stride_om + offs_n[None, :] * stride_on
    out_mask = m_ok[:, None] & n_ok[None, :]
    if ATOMIC:
        tl.atomic_add(out_ptrs, acc, mask=out_mask)
    else:
        tl.store(out_ptrs, acc.to(OUT.dtype.element_ty), mask=out_mask)


_KEY = ["M_BUCKET", "N", "K", "BITS", "GROUP"]
_qmm_decode = triton.autotune(configs=_DECODE_CONFIGS, key=_KEY, reset_to_zero=["OUT"],
                              prune_configs_by={"early_config_prune": _prune})(_qmm_kernel)
_qmm_prefill = triton.autotune(configs=_PREFILL_CONFIGS, key=_KEY,
                               prune_configs_by={"early_config_prune": _prune})(_qmm_kernel)


def quant_matmul(x: torch.Tensor, qweight: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor | None,
                 bits: int, group_size: int | None) -> torch.Tensor:
    """x (..., K) fp16/bf16/fp32 @ dequant(qweight)^T -> (..., N) in x's dtype."""
    check_device(x, qweight, scales, zeros)
    if bits == 8:
        if qweight.dtype != torch.int8:
            raise TypeError(f"int8 weights must be torch.int8, got {qweight.dtype}")
        n, k = qweight.shape
    elif bits == 4:
        if qweight.dtype != torch.uint8:
            raise TypeError(f"packed int4 weights must be torch.uint8, got {qweight.dtype}")
        n, k = qweight.shape[0], qweight.shape[1] * 2
    else:
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    if x.shape[-1] != k:
        raise ValueError(f"x has K={x.shape[-1]}, weight has K={k}")
    group = 0 if group_size is None or group_size >= k else group_size
    if group and (k % group or group % 32):
        raise ValueError(f"group_size must be a multiple of 32 dividing K={k}, got {group_size}")
    n_groups = 1 if group == 0 else k // group
    s2 = scales.reshape(n, n_groups)
    z2 = zeros.reshape(n, n_groups) if zeros is not None else None
    x2 = x.reshape(-1, k)
    m = x2.shape[0]
    decode = m <= DECODE_MAX_M
    if decode:
        out = torch.zeros((m, n), device=x.device, dtype=torch.float32)
    else:
        out = torch.empty((m, n), device=x.device, dtype=x.dtype)
    if m == 0 or n == 0:
        return out.to(x.dtype).reshape(*x.shape[:-1], n)

    def grid(meta):
        return (triton.cdiv(m, meta["BLOCK_M"]), triton.cdiv(n, meta["BLOCK_N"]), meta["SPLIT_K"])

    kernel = _qmm_decode if decode else _qmm_prefill
    zp = z2 if z2 is not None else s2  # dummy pointer when there is no zero point
    kernel[grid](x2, qweight, s2, zp, out, m, n, k,
                 x2.stride(0), x2.stride(1), qweight.stride(0), qweight.stride(1),
                 s2.stride(0), s2.stride(1), zp.stride(0), zp.stride(1), out.stride(0), out.stride(1),
                 BITS=bits, GROUP=group, HAS_ZERO=z2 is not None,
                 DEFAULT_ZERO=INT4_DEFAULT_ZERO if bits == 4 else 0, ATOMIC=decode,
                 M_BUCKET=triton.next_power_of_2(m))
    if decode:
        out = out.to(x.dtype)
    return out.reshape(*x.shape[:-1], n)
