"""Kernel benchmark: the Triton kernels against their named baselines, as ratios.

    python benchmarks/kernels.py [--quick] [--json PATH]

* flash attention forward / backward, TFLOP/s, vs PyTorch SDPA restricted to its flash backend
  (B=4, H=16, T=4096, D=128, bf16; causal and not). FLOPs: 4*B*H*T^2*D forward (halved when
  causal), 2.5x that for the backward (5 matmuls instead of 2), the FlashAttention papers' count.
* fused RMSNorm forward and forward+backward, GB/s, vs the eager PyTorch reference
  (16384 x 4096 bf16; bytes = x read + y written (+ dy read, dx written for the backward)).
* RoPE, GB/s, vs the eager reference.
* int4 (group 128) and int8 weight-only matmul vs an fp16 matmul (cuBLAS) at decode shapes
  (M=1 and 16, Llama-7B projection sizes), plus one prefill shape (M=2048). GB/s counts the
  weight bytes. Decode shapes are timed as CUDA-graph replays over 16 weight copies (kernel time,
  weights from HBM, no launch overhead); the eager per-call time is printed beside it.

Times are medians of ``triton.testing.do_bench`` (CUDA events, L2 flushed between runs).
Exits 0 with a message when there is no CUDA GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402


def _no_gpu_exit() -> None:
    print("benchmarks/kernels.py: no CUDA GPU here (torch.cuda.is_available() is False); "
          "the Triton kernels are benchmarked on a GPU only. Nothing measured.")
    sys.exit(0)


def _bench(fn) -> float:
    """Median milliseconds."""
    import triton.testing

    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")


def _rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def _attention_case(b: int, h: int, t: int, d: int, causal: bool, backward: bool) -> list[dict]:
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    import kernels

    q, k, v = (torch.randn(b, h, t, d, device="cuda", dtype=torch.bfloat16, requires_grad=True)
               for _ in range(3))
    do = torch.randn_like(q)
    flops_fwd = 4 * b * h * t * t * d * (0.5 if causal else 1.0)

    def ours():
        return kernels.attention(q, k, v, causal=causal, impl="triton")

    def sdpa():
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    o_ours, o_sdpa = ours(), sdpa()
    err = _rel_err(o_ours, o_sdpa)
    with torch.no_grad():
        t_ours, t_sdpa = _bench(ours), _bench(sdpa)
    tag = f"attn {'causal' if causal else 'full'} B{b} H{h} T{t} D{d} bf16"
    rows = [dict(name=f"{tag} fwd", unit="TFLOP/s", ours=flops_fwd / t_ours / 1e9, baseline=flops_fwd / t_sdpa / 1e9,
                 baseline_name="SDPA flash", ms=t_ours, note=f"rel err vs SDPA {err:.1e}")]
    if not backward:
        return rows
    g_ours = torch.autograd.grad(o_ours, (q, k, v), do, retain_graph=True)
    g_sdpa = torch.autograd.grad(o_sdpa, (q, k, v), do, retain_graph=True)
    gerr = max(_rel_err(a, c) for a, c in zip(g_ours, g_sdpa, strict=True))
    tb_ours = _bench(lambda: torch.autograd.grad(o_ours, (q, k, v), do, retain_graph=True))
    tb_sdpa = _bench(lambda: torch.autograd.grad(o_sdpa, (q, k, v), do, retain_graph=True))
    return rows + [
        dict(name=f"{tag} bwd", unit="TFLOP/s", ours=2.5 * flops_fwd / tb_ours / 1e9,
             baseline=2.5 * flops_fwd / tb_sdpa / 1e9, baseline_name="SDPA flash", ms=tb_ours,
             note=f"grad rel err vs SDPA {gerr:.1e}"),
    ]


def bench_attention(rows: list, quick: bool) -> None:
    b, h, t, d = (2, 16, 2048, 128) if quick else (4, 16, 4096, 128)
    # training is causal: the non-causal case is timed forward only (saves the backward's compiles)
    for causal in (True, False):
        for row in _attention_case(b, h, t, d, causal, backward=causal):
            rows.append(row)
            print(f"{row['name']}: {row['ours']:.0f} vs {row['baseline']:.0f} {row['unit']}", flush=True)


# Tiles beyond the autotuner's short list, timed one by one when the forward misses its goal.
SWEEP_CONFIGS = [(128, 64, 4, 3), (128, 128, 8, 3), (128, 64, 8, 3), (64, 64, 4, 3), (128, 64, 4, 2),
                 (128, 32, 4, 3), (64, 128, 4, 3), (128, 128, 4, 3), (128, 128, 8, 4), (128, 64, 4, 4),
                 (64, 64, 4, 4), (128, 64, 8, 4), (64, 32, 4, 3), (128, 32, 8, 3), (128, 128, 8, 2)]


def sweep_attention_forward(rows: list, quick: bool, budget_s: float) -> None:
    """Time each forward tile config directly (no autotuner) until the time budget is spent."""
    from kernels.triton_attention import flash_attention_forward

    b, h, t, d = (2, 16, 2048, 128) if quick else (4, 16, 4096, 128)
    start = time.time()
    for causal in (True, False):
        q, k, v = (torch.randn(b, h, t, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        flops = 4 * b * h * t * t * d * (0.5 if causal else 1.0)
        for bm, bn, warps, stages in SWEEP_CONFIGS:
            if time.time() - start > budget_s:
                print(f"sweep: time budget of {budget_s:.0f}s spent", flush=True)
                return
            config = dict(BLOCK_M=bm, BLOCK_N=bn, num_warps=warps, num_stages=stages)
            try:
                ms = _bench(lambda config=config, q=q, k=k, v=v, causal=causal:
                            flash_attention_forward(q, k, v, causal, config=config))
                print(f"sweep fwd causal={causal} BM={bm} BN={bn} warps={warps} stages={stages}: "
                      f"{flops / ms / 1e9:.0f} TFLOP/s", flush=True)
            except Exception as exc:  # e.g. out of shared memory
                print(f"sweep fwd causal={causal} {config}: {type(exc).__name__}", flush=True)


def bench_rms_norm_rope(rows: list, quick: bool) -> None:
    import kernels

    m, n = (4096, 4096) if quick else (16384, 4096)
    x = torch.randn(m, n, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    w = torch.rand(n, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    dy = torch.randn_like(x)
    elt = x.element_size()
    fwd_bytes = 2 * m * n * elt + n * elt
    t_ours = _bench(lambda: kernels.rms_norm(x, w, impl="triton"))
    t_ref = _bench(lambda: kernels.rms_norm(x, w, impl="torch"))
    rows.append(dict(name=f"rms_norm fwd {m}x{n} bf16", unit="GB/s", ours=fwd_bytes / t_ours / 1e6,
                     baseline=fwd_bytes / t_ref / 1e6, baseline_name="eager torch", ms=t_ours))
    y_ours, y_ref = kernels.rms_norm(x, w, impl="triton"), kernels.rms_norm(x, w, impl="torch")
    bwd_bytes = 3 * m * n * elt + 2 * n * elt
    tb_ours = _bench(lambda: torch.autograd.grad(y_ours, (x, w), dy, retain_graph=True))
    tb_ref = _bench(lambda: torch.autograd.grad(y_ref, (x, w), dy, retain_graph=True))
    rows.append(dict(name=f"rms_norm bwd {m}x{n} bf16", unit="GB/s", ours=bwd_bytes / tb_ours / 1e6,
                     baseline=bwd_bytes / tb_ref / 1e6, baseline_name="eager torch", ms=tb_ours))

    b, h, t, d = 4, 32, 4096, 128
    xr = torch.randn(b, h, t, d, device="cuda", dtype=torch.bfloat16)
    cos, sin = kernels.rope_cos_sin(t, d, device="cuda")
    rope_bytes = 2 * xr.numel() * xr.element_size() + 2 * cos.numel() * 4
    t_ours = _bench(lambda: kernels.apply_rope(xr, cos, sin, impl="triton"))
    t_ref = _bench(lambda: kernels.apply_rope(xr, cos, sin, impl="torch"))
    rows.append(dict(name=f"rope fwd B{b} H{h} T{t} D{d} bf16", unit="GB/s", ours=rope_bytes / t_ours / 1e6,
                     baseline=rope_bytes / t_ref / 1e6, baseline_name="eager torch", ms=t_ours))


def _bench_graph(calls: list, reps: int = 30) -> float:
    """Median milliseconds per call, from CUDA-graph replays of ``calls`` back to back.

    Each call works on its own copy of the weights, together larger than L2, so every call
    streams its weights from HBM; the graph removes the Python/launch overhead that dominates a
    single eager decode step, leaving the kernels' own time.
    """
    for call in calls:  # compile and autotune outside the capture
        call()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for call in calls:
            call()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for call in calls:
            call()
    graph.replay()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2] / len(calls)


def bench_quant_matmul(rows: list, quick: bool) -> None:
    shapes = [(1, 4096, 4096), (1, 11008, 4096), (1, 4096, 11008), (16, 4096, 4096)]
    if not quick:
        shapes.append((2048, 4096, 4096))
    for m, n, k in shapes:
        for row in _quant_case(m, n, k):
            rows.append(row)
            print(f"{row['name']}: {row['speedup']:.2f}x fp16", flush=True)


def _quant_case(m: int, n: int, k: int, copies: int = 16) -> list[dict]:
    """copies: 16 copies of an int4 4096x4096 weight are 128 MB, twice an H200's L2."""
    import torch.nn.functional as F

    import kernels

    rows = []
    w = torch.randn(n, k, device="cuda", dtype=torch.float16) * 0.02
    x = torch.randn(m, k, device="cuda", dtype=torch.float16)
    exact = F.linear(x, w)
    p4, s4, z4 = kernels.quantize_int4_groupwise(w, 128)
    q8, s8 = kernels.quantize_int8_per_channel(w)
    cases = [("int4 g128", (p4, s4, z4, 4, 128), p4.numel() + 2 * s4.numel() + z4.numel()),
             ("int8", (q8, s8, None, 8, None), q8.numel() + 2 * s8.numel())]
    decode = m <= 16
    n_copies = copies if decode else 1
    ws = [w.clone() for _ in range(n_copies)]
    if decode:
        t_fp16 = _bench_graph([lambda w=w: F.linear(x, w) for w in ws])
        t_fp16_eager = _bench(lambda: F.linear(x, w))
    else:
        t_fp16 = _bench(lambda: F.linear(x, w))
    for label, args, wbytes in cases if decode else cases[:1]:
        err = _rel_err(kernels.quant_matmul(x, *args, impl="triton"), exact)
        if decode:
            arg_sets = [tuple(a.clone() if torch.is_tensor(a) else a for a in args) for _ in range(n_copies)]
            t_q = _bench_graph([lambda a=a: kernels.quant_matmul(x, *a, impl="triton") for a in arg_sets])
            t_q_eager = _bench(lambda args=args: kernels.quant_matmul(x, *args, impl="triton"))
            eager = f"; eager call {t_q_eager * 1e3:.0f} us vs fp16 {t_fp16_eager * 1e3:.0f} us (launch overhead)"
        else:
            t_q = _bench(lambda args=args: kernels.quant_matmul(x, *args, impl="triton"))
            eager = ""
        rows.append(dict(name=f"{label} matmul M{m} N{n} K{k}", unit="ms", ours=t_q, baseline=t_fp16,
                         baseline_name="fp16 F.linear" + (" (graph)" if decode else ""), ms=t_q,
                         speedup=t_fp16 / t_q,
                         note=f"weight GB/s {wbytes / t_q / 1e6:.0f} vs fp16 {2 * n * k / t_fp16 / 1e6:.0f}; "
                              f"rel err vs fp16 weights {err:.1e}{eager}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller attention shape, fewer cases")
    parser.add_argument("--only", choices=["attention", "norm", "quant"], action="append")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--sweep-seconds", type=float, default=0.0,
                        help="if a flash forward is under 0.8x SDPA, spend up to this long timing more tiles")
    args = parser.parse_args()

    if os.environ.get("TRITON_INTERPRET") == "1" or not torch.cuda.is_available():
        _no_gpu_exit()
    import triton

    props = torch.cuda.get_device_properties(0)
    print(f"device: {props.name}, {props.multi_processor_count} SMs; torch {torch.__version__}, "
          f"triton {triton.__version__}", flush=True)
    rows: list[dict] = []
    sections = {"attention": bench_attention, "norm": bench_rms_norm_rope, "quant": bench_quant_matmul}
    for name in args.only or list(sections):
        start = time.time()
        try:
            sections[name](rows, args.quick)
        except Exception as exc:  # report the rest even if one section breaks
            print(f"[{name}] FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"[{name}] {time.time() - start:.0f}s (autotune and compiles included)", flush=True)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))

    slow = [r for r in rows if r["name"].endswith(" fwd") and r["unit"] == "TFLOP/s" and r["ours"] < 0.8 * r["baseline"]]
    if slow and args.sweep_seconds > 0:
        sweep_attention_forward(rows, args.quick, args.sweep_seconds)

    print()
    print(f"{'case':<46} {'unit':>8} {'triton':>9} {'baseline':>9} {'ratio':>7}  baseline / note")
    for r in rows:
        # "ms" rows: baseline time / our time; rate rows: our rate / baseline rate
        ratio = r["speedup"] if r["unit"] == "ms" else r["ours"] / r["baseline"]
        print(f"{r['name']:<46} {r['unit']:>8} {r['ours']:>9.3f} {r['baseline']:>9.3f} {ratio:>6.2f}x  "
              f"{r['baseline_name']}; {r.get('note', '')}")


if __name__ == "__main__":
    main()
