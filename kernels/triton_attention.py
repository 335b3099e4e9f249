"""Flash attention forward and backward in Triton (FlashAttention-2 work partitioning).

Forward: one program per (query block, batch*head); it streams key/value blocks through an online
softmax (running max ``m``, running sum ``l``, rescaled accumulator) and writes O and the
log-sum-exp of each query row, which is all the backward needs to rebuild P (Dao, 2023, §3.1).
Backward: two kernels with no atomics, as in FlashAttention-2 §3.2 / the Triton tutorial:
``dkdv`` (one program per key block, looping over the query blocks of every query head sharing
that kv head, so GQA gradients are summed in registers) and ``dq`` (one program per query block).

Loops are split into an unmasked part (blocks fully visible to every row of the program) and a
masked part (the causal diagonal and the ragged tail), so the bulk of the work skips masking.
Causal masking is bottom-right aligned: query i sees keys ``j <= i + T_k - T_q``.
Scores are kept in log2 units (``exp2``, ``qk_scale = sm_scale * log2(e)``); the LSE handed
back is in natural-log units of the scaled scores.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from ._triton_support import autotune_configs, check_device

LOG2E = 1.4426950408889634
SUPPORTED_HEAD_DIMS = (16, 32, 64, 128, 256)


def _cfg(bm: int, bn: int, warps: int, stages: int) -> triton.Config:
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=warps, num_stages=stages)


# Hopper search space, kept short because every config is a compile (a few seconds each):
# the Triton tutorial's winners for D in {64, 128} and their neighbours in tile shape and warps.
_FWD_CONFIGS = autotune_configs(
    [_cfg(128, 64, 4, 3), _cfg(128, 128, 8, 3), _cfg(128, 64, 8, 3), _cfg(64, 64, 4, 3)],
    _cfg(64, 32, 4, 2),
    _cfg(32, 16, 4, 1),
)
_DKDV_CONFIGS = autotune_configs(
    [_cfg(32, 128, 4, 3), _cfg(64, 128, 8, 3), _cfg(32, 64, 4, 3)],
    _cfg(32, 64, 4, 2),
    _cfg(16, 32, 4, 1),
)
_DQ_CONFIGS = autotune_configs(
    [_cfg(128, 32, 4, 3), _cfg(128, 64, 8, 3), _cfg(64, 64, 4, 3)],
    _cfg(64, 32, 4, 2),
    _cfg(32, 16, 4, 1),
)
_KEY = ["T_Q", "T_K", "HEAD_DIM", "CAUSAL", "GROUP"]


@triton.jit
def _fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kt, stride_vt, lo, hi, offs_m, offs_d,
               T_K, CAUSAL_OFF, qk_scale,
               MASKED: tl.constexpr, CAUSAL: tl.constexpr, BLOCK_N: tl.constexpr):
    offs_n = tl.arange(0, BLOCK_N)
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        cols = start_n + offs_n
        k_ptrs = k_base + cols[:, None] * stride_kt + offs_d[None, :]
        v_ptrs = v_base + cols[:, None] * stride_vt + offs_d[None, :]
        if MASKED:  # noqa: SIM108 (constexpr branches; ragged tail only)
            k = tl.load(k_ptrs, mask=cols[:, None] < T_K, other=0.0)
        else:
            k = tl.load(k_ptrs)
        qk = tl.dot(q, tl.trans(k))
        if MASKED:
            keep = cols[None, :] < T_K
            if CAUSAL:
                keep = keep & (cols[None, :] <= offs_m[:, None] + CAUSAL_OFF)
            qk = tl.where(keep, qk, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
        p = tl.math.exp2(qk * qk_scale - m_new[:, None])
        alpha = tl.math.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None]
        if MASKED:  # noqa: SIM108
            v = tl.load(v_ptrs, mask=cols[:, None] < T_K, other=0.0)
        else:
            v = tl.load(v_ptrs)
        acc = tl.dot(p.to(v.dtype), v, acc)
        m_i = m_new
    return acc, l_i, m_i


@triton.autotune(configs=_FWD_CONFIGS, key=_KEY)
@triton.jit
def _attn_fwd(Q, K, V, O, LSE, qk_scale,  # noqa: E741
              stride_qb, stride_qh, stride_qt,
              stride_kb, stride_kh, stride_kt,
              stride_vb, stride_vh, stride_vt,
              stride_ob, stride_oh, stride_ot,
              H, T_Q, T_K, CAUSAL_OFF,
              GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    b = (bh // H).to(tl.int64)
    h = (bh % H).to(tl.int64)
    h_kv = h // GROUP
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = offs_m[:, None] < T_Q

    q = tl.load(Q + b * stride_qb + h * stride_qh + offs_m[:, None] * stride_qt + offs_d[None, :],
                mask=row_ok, other=0.0)
    k_base = K + b * stride_kb + h_kv * stride_kh
    v_base = V + b * stride_vb + h_kv * stride_vh

    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    if CAUSAL:
        # every row of this block sees keys <= start_m + CAUSAL_OFF; none sees past the block's end
        mid = (start_m + CAUSAL_OFF + 1) // BLOCK_N * BLOCK_N
        hi = tl.minimum(T_K, start_m + BLOCK_M + CAUSAL_OFF)
    else:
        mid = T_K // BLOCK_N * BLOCK_N
        hi = T_K
    acc, l_i, m_i = _fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kt, stride_vt, 0, mid,
                               offs_m, offs_d, T_K, CAUSAL_OFF, qk_scale, False, CAUSAL, BLOCK_N)
    acc, l_i, m_i = _fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kt, stride_vt, mid, hi,
                               offs_m, offs_d, T_K, CAUSAL_OFF, qk_scale, True, CAUSAL, BLOCK_N)
    acc = acc / l_i[:, None]
    lse = (m_i + tl.math.log2(l_i)) / 1.4426950408889634
    tl.store(O + b * stride_ob + h * stride_oh + offs_m[:, None] * stride_ot + offs_d[None, :],
             acc.to(O.dtype.element_ty), mask=row_ok)
    tl.store(LSE + bh.to(tl.int64) * T_Q + offs_m, lse, mask=offs_m < T_Q)


@triton.jit
def _dkdv_inner(dk, dv, k, v, q_base, do_base, lse_base, delta_base, stride_qt, stride_dot,
                lo, hi, offs_n, offs_d, T_Q, CAUSAL_OFF, qk_scale,
                MASKED: tl.constexpr, BLOCK_M: tl.constexpr):
    offs_m = tl.arange(0, BLOCK_M)
    for start_m in range(lo, hi, BLOCK_M):
        start_m = tl.multiple_of(start_m, BLOCK_M)
        rows = start_m + offs_m
        row_ok = rows < T_Q
        q = tl.load(q_base + rows[:, None] * stride_qt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        # padded rows get lse=+inf, hence P=0, and contribute nothing
        m = tl.load(lse_base + rows, mask=row_ok, other=float("inf")) * 1.4426950408889634
        pt = tl.math.exp2(tl.dot(k, tl.trans(q)) * qk_scale - m[None, :])
        if MASKED:
            pt = tl.where(offs_n[:, None] <= rows[None, :] + CAUSAL_OFF, pt, 0.0)
        do = tl.load(do_base + rows[:, None] * stride_dot + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        dv = tl.dot(pt.to(do.dtype), do, dv)
        delta = tl.load(delta_base + rows, mask=row_ok, other=0.0)
        dpt = tl.dot(v, tl.trans(do))
        dst = pt * (dpt - delta[None, :])
        dk = tl.dot(dst.to(q.dtype), q, dk)
    return dk, dv


@triton.autotune(configs=_DKDV_CONFIGS, key=_KEY)
@triton.jit
def _attn_bwd_dkdv(Q, K, V, DO, LSE, DELTA, DK, DV, qk_scale, sm_scale,
                   stride_qb, stride_qh, stride_qt,
                   stride_kb, stride_kh, stride_kt,
                   stride_vb, stride_vh, stride_vt,
                   stride_dob, stride_doh, stride_dot,
                   stride_dkb, stride_dkh, stride_dkt,
                   H_KV, T_Q, T_K, CAUSAL_OFF,
                   GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_n = tl.program_id(0) * BLOCK_N
    bh = tl.program_id(1)
    b = (bh // H_KV).to(tl.int64)
    h_kv = (bh % H_KV).to(tl.int64)
    offs_n = start_n + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    col_ok = offs_n[:, None] < T_K
    k = tl.load(K + b * stride_kb + h_kv * stride_kh + offs_n[:, None] * stride_kt + offs_d[None, :],
                mask=col_ok, other=0.0)
    v = tl.load(V + b * stride_vb + h_kv * stride_vh + offs_n[:, None] * stride_vt + offs_d[None, :],
                mask=col_ok, other=0.0)
    dk = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    if CAUSAL:
        # rows before `lo` see none of these keys; rows from `mid` on see all of them
        lo = tl.maximum(start_n - CAUSAL_OFF, 0) // BLOCK_M * BLOCK_M
        mid = tl.maximum(start_n + BLOCK_N - 1 - CAUSAL_OFF, lo)
        mid = tl.minimum((mid + BLOCK_M - 1) // BLOCK_M * BLOCK_M, (T_Q + BLOCK_M - 1) // BLOCK_M * BLOCK_M)
    else:
        lo = 0
        mid = 0
    for g in range(GROUP):
        h = h_kv * GROUP + g
        q_base = Q + b * stride_qb + h * stride_qh
        do_base = DO + b * stride_dob + h * stride_doh
        lse_base = LSE + (b * (H_KV * GROUP) + h) * T_Q
        delta_base = DELTA + (b * (H_KV * GROUP) + h) * T_Q
        dk, dv = _dkdv_inner(dk, dv, k, v, q_base, do_base, lse_base, delta_base, stride_qt, stride_dot,
                             lo, mid, offs_n, offs_d, T_Q, CAUSAL_OFF, qk_scale, True, BLOCK_M)
        dk, dv = _dkdv_inner(dk, dv, k, v, q_base, do_base, lse_base, delta_base, stride_qt, stride_dot,
                             mid, T_Q, offs_n, offs_d, T_Q, CAUSAL_OFF, qk_scale, False, BLOCK_M)
    dk = dk * sm_scale
    out_off = b * stride_dkb + h_kv * stride_dkh + offs_n[:, None] * stride_dkt + offs_d[None, :]
    tl.store(DK + out_off, dk.to(DK.dtype.element_ty), mask=col_ok)
    tl.store(DV + out_off, dv.to(DV.dtype.element_ty), mask=col_ok)


@triton.jit
def _dq_inner(dq, q, do, m, delta, k_base, v_base, stride_kt, stride_vt, lo, hi, offs_m, offs_d,
              T_K, CAUSAL_OFF, qk_scale,
              MASKED: tl.constexpr, CAUSAL: tl.constexpr, BLOCK_N: tl.constexpr):
    offs_n = tl.arange(0, BLOCK_N)
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        cols = start_n + offs_n
        k_ptrs = k_base + cols[:, None] * stride_kt + offs_d[None, :]
        v_ptrs = v_base + cols[:, None] * stride_vt + offs_d[None, :]
        if MASKED:
            k = tl.load(k_ptrs, mask=cols[:, None] < T_K, other=0.0)
            v = tl.load(v_ptrs, mask=cols[:, None] < T_K, other=0.0)
        else:
            k = tl.load(k_ptrs)
            v = tl.load(v_ptrs)
        p = tl.math.exp2(tl.dot(q, tl.trans(k)) * qk_scale - m[:, None])
        if MASKED:
            keep = cols[None, :] < T_K
            if CAUSAL:
                keep = keep & (cols[None, :] <= offs_m[:, None] + CAUSAL_OFF)
            p = tl.where(keep, p, 0.0)
        dp = tl.dot(do, tl.trans(v))
        ds = p * (dp - delta[:, None])
        dq = tl.dot(ds.to(k.dtype), k, dq)
    return dq


@triton.autotune(configs=_DQ_CONFIGS, key=_KEY)
@triton.jit
def _attn_bwd_dq(Q, K, V, DO, LSE, DELTA, DQ, qk_scale, sm_scale,
                 stride_qb, stride_qh, stride_qt,
                 stride_kb, stride_kh, stride_kt,
                 stride_vb, stride_vh, stride_vt,
                 stride_dob, stride_doh, stride_dot,
                 stride_dqb, stride_dqh, stride_dqt,
                 H, T_Q, T_K, CAUSAL_OFF,
                 GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    b = (bh // H).to(tl.int64)
    h = (bh % H).to(tl.int64)
    h_kv = h // GROUP
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = offs_m < T_Q
    q = tl.load(Q + b * stride_qb + h * stride_qh + offs_m[:, None] * stride_qt + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    do = tl.load(DO + b * stride_dob + h * stride_doh + offs_m[:, None] * stride_dot + offs_d[None, :],
                 mask=row_ok[:, None], other=0.0)
    m = tl.load(LSE + bh.to(tl.int64) * T_Q + offs_m, mask=row_ok, other=float("inf")) * 1.4426950408889634
    delta = tl.load(DELTA + bh.to(tl.int64) * T_Q + offs_m, mask=row_ok, other=0.0)
    k_base = K + b * stride_kb + h_kv * stride_kh
    v_base = V + b * stride_vb + h_kv * stride_vh
    dq = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    if CAUSAL:
        mid = (start_m + CAUSAL_OFF + 1) // BLOCK_N * BLOCK_N
        hi = tl.minimum(T_K, start_m + BLOCK_M + CAUSAL_OFF)
    else:
        mid = T_K // BLOCK_N * BLOCK_N
        hi = T_K
    dq = _dq_inner(dq, q, do, m, delta, k_base, v_base, stride_kt, stride_vt, 0, mid, offs_m, offs_d,
                   T_K, CAUSAL_OFF, qk_scale, False, CAUSAL, BLOCK_N)
    dq = _dq_inner(dq, q, do, m, delta, k_base, v_base, stride_kt, stride_vt, mid, hi, offs_m, offs_d,
                   T_K, CAUSAL_OFF, qk_scale, True, CAUSAL, BLOCK_N)
    dq = dq * sm_scale
    tl.store(DQ + b * stride_dqb + h * stride_dqh + offs_m[:, None] * stride_dqt + offs_d[None, :],
             dq.to(DQ.dtype.element_ty), mask=row_ok[:, None])


def _check_shapes(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> None:
    if q.ndim != 4 or k.ndim != 4 or v.shape != k.shape:
        raise ValueError(f"expected q (B,H,T,D), k/v (B,Hkv,T,D); got {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    b, h, t_q, d = q.shape
    if k.shape[0] != b or k.shape[3] != d or h % k.shape[1]:
        raise ValueError(f"k/v {tuple(k.shape)} do not match q {tuple(q.shape)} (need H % Hkv == 0)")
    if d not in SUPPORTED_HEAD_DIMS:
        raise ValueError(f"triton attention supports head dims {SUPPORTED_HEAD_DIMS}, got {d}")
    if causal and t_q > k.shape[2]:
        raise ValueError(f"causal attention needs T_q <= T_k, got {t_q} > {k.shape[2]}")
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k, v dtypes differ: {q.dtype}, {k.dtype}, {v.dtype}")


def _last_dim_contiguous(x: torch.Tensor) -> torch.Tensor:
    return x if x.stride(-1) == 1 else x.contiguous()


def flash_attention_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True,
                            sm_scale: float | None = None,
                            config: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns ``(o (B, H, T_q, D), lse (B, H, T_q) fp32)``; lse = logsumexp of the scaled scores.

    ``config`` (BLOCK_M, BLOCK_N, num_warps, num_stages) bypasses the autotuner: for tuning sweeps.
    """
    _check_shapes(q, k, v, causal)
    check_device(q, k, v)
    q, k, v = (_last_dim_contiguous(x) for x in (q, k, v))
    b, h, t_q, d = q.shape
    h_kv, t_k = k.shape[1], k.shape[2]
    sm_scale = 1.0 / math.sqrt(d) if sm_scale is None else sm_scale
    o = torch.empty_like(q, memory_format=torch.contiguous_format)
    lse = torch.empty((b, h, t_q), device=q.device, dtype=torch.float32)

    def grid(meta):
        return (triton.cdiv(t_q, meta["BLOCK_M"]), b * h)

    kernel = _attn_fwd if config is None else _attn_fwd.fn
    kernel[grid](q, k, v, o, lse, sm_scale * LOG2E,
                    q.stride(0), q.stride(1), q.stride(2),
                    k.stride(0), k.stride(1), k.stride(2),
                    v.stride(0), v.stride(1), v.stride(2),
                    o.stride(0), o.stride(1), o.stride(2),
                    h, t_q, t_k, t_k - t_q,
                    GROUP=h // h_kv, HEAD_DIM=d, CAUSAL=causal, **(config or {}))
    return o, lse


def flash_attention_backward(do: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                             o: torch.Tensor, lse: torch.Tensor, causal: bool = True,
                             sm_scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients ``(dq, dk, dv)`` of ``flash_attention_forward`` given dO, O and the LSE."""
    check_device(do, q, k, v)
    do, q, k, v = (_last_dim_contiguous(x) for x in (do, q, k, v))
    b, h, t_q, d = q.shape
    h_kv, t_k = k.shape[1], k.shape[2]
    sm_scale = 1.0 / math.sqrt(d) if sm_scale is None else sm_scale
    # D_i = rowsum(dO * O) (FlashAttention-2 eq. for dS); O(T*D), negligible next to the O(T^2 D) kernels
    delta = (do.float() * o.float()).sum(-1).contiguous()
    lse = lse.contiguous()
    dq = torch.empty_like(q, memory_format=torch.contiguous_format)
    dk = torch.empty_like(k, memory_format=torch.contiguous_format)
    dv = torch.empty_like(v, memory_format=torch.contiguous_format)
    common = dict(GROUP=h // h_kv, HEAD_DIM=d, CAUSAL=causal)

    def grid_kv(meta):
        return (triton.cdiv(t_k, meta["BLOCK_N"]), b * h_kv)

    _attn_bwd_dkdv[grid_kv](q, k, v, do, lse, delta, dk, dv, sm_scale * LOG2E, sm_scale,
                            q.stride(0), q.stride(1), q.stride(2),
                            k.stride(0), k.stride(1), k.stride(2),
                            v.stride(0), v.stride(1), v.stride(2),
                            do.stride(0), do.stride(1), do.stride(2),
                            dk.stride(0), dk.stride(1), dk.stride(2),
                            h_kv, t_q, t_k, t_k - t_q, **common)

    def grid_q(meta):
        return (triton.cdiv(t_q, meta["BLOCK_M"]), b * h)

    _attn_bwd_dq[grid_q](q, k, v, do, lse, delta, dq, sm_scale * LOG2E, sm_scale,
                         q.stride(0), q.stride(1), q.stride(2),
                         k.stride(0), k.stride(1), k.stride(2),
                         v.stride(0), v.stride(1), v.stride(2),
                         do.stride(0), do.stride(1), do.stride(2),
                         dq.stride(0), dq.stride(1), dq.stride(2),
                         h, t_q, t_k, t_k - t_q, **common)
    return dq, dk, dv


class FlashAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal):
        o, lse = flash_attention_forward(q, k, v, causal)
        ctx.save_for_backward(q, k, v, o, lse)
        ctx.causal = causal
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = flash_attention_backward(do, q, k, v, o, lse, ctx.causal)
        return dq, dk, dv, None


def flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Differentiable flash attention (softmax scale 1/sqrt(D))."""
    return FlashAttentionFunction.apply(q, k, v, causal)
