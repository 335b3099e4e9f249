"""Training throughput: DeepSpeed ZeRO 1/2/3 against a plain PyTorch loop, measured in the same run.

    python benchmarks/train.py                       # 1 process, fp32, the "bench" model below
    python benchmarks/train.py --nprocs 2            # 2 ranks (torchrun): ZeRO vs plain DDP
    python benchmarks/train.py --precision bf16 --preset 125m --seq-len 1024 --kinds plain,zero2   # a GPU

Same model, batch, precision, optimizer (torch AdamW), clipping and LR schedule on both sides; the
DeepSpeed side is the engine trainer/train/pretrain.py drives. All configurations live in one process (one
per rank) and are timed in interleaved slots of a few steps, rotating the order every round, so a
busy machine slows them alike; the median round counts. Printed: tokens/s, the ratio to the plain
loop, each configuration's peak memory beside ZeRO's model-state formula, and MFU where the
device's peak FLOP/s is known (trainer/train/metrics.py).

ZeRO's formula (Rajbhandari et al. 2020, section 5.1) for Ψ parameters over N data-parallel ranks,
with p/g bytes per parameter/gradient and K = 12 bytes of optimizer state (fp32 master copy, Adam
m and v): stage 1: (p+g)Ψ + KΨ/N; 2: pΨ + (g+K)Ψ/N; 3: (p+g+K)Ψ/N. A plain loop keeps no master
copy in fp32: (4+4+8)Ψ; with bf16 autocast its weights stay fp32, the same 16Ψ.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder leads sys.path, and benchmarks/tokenize.py would shadow the stdlib's.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(HERE).parent
sys.path.insert(0, str(REPO))

KINDS = ["plain", "zero1", "zero2", "zero3"]
NAMES = {"plain": "plain PyTorch", "zero1": "DeepSpeed ZeRO-1", "zero2": "DeepSpeed ZeRO-2",
         "zero3": "DeepSpeed ZeRO-3"}
# Big enough that a step is compute, not Python overhead, on 2 CPU cores (~5M parameters).
BENCH_MODEL = {"dim": 256, "n_layers": 4, "n_heads": 8, "n_kv_heads": 4, "max_seq_len": 256}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="bench", help="bench (default), or a trainer preset: tiny, 125m, 1b")
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--rounds", type=int, default=6, help="timed rounds; each times every configuration")
    p.add_argument("--slot-steps", type=int, default=2, help="steps per configuration per round")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--nprocs", type=int, default=1)
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------- the measuring process (one per rank)

class HostMemory:
    """Peak RSS over an interval: Linux resets VmHWM to the current RSS on `5 > clear_refs`."""

    @staticmethod
    def _status(key: str) -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024  # KiB -> MiB
        return float("nan")

    def start(self) -> None:
        Path("/proc/self/clear_refs").write_text("5")
        self.base = self._status("VmRSS:")

    def peak(self) -> float:
        return self._status("VmHWM:") - self.base


class DeviceMemory:
    def start(self) -> None:
        import torch

        torch.cuda.reset_peak_memory_stats()
        self.base = torch.cuda.memory_allocated() / 2**20

    def peak(self) -> float:
        import torch

        return torch.cuda.max_memory_allocated() / 2**20 - self.base


def build(kind: str, model, cfg, args, ctx):
    """A `step(batch_list)` closure for one configuration."""
    import torch

    from trainer.model.transformer import cross_entropy
    from trainer.train import zero

    bf16, device = args.precision == "bf16", ctx.device
    if kind == "plain":
        model.to(device)
        net = model
        if ctx.world_size > 1:
            net = torch.nn.parallel.DistributedDataParallel(model)
        opt = zero.client_optimizer(cfg, zero.param_groups(model, cfg.weight_decay))
        sched = zero.lr_scheduler_factory(cfg)(opt)

        def step(micro_batches):
            for b in micro_batches:
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    loss = cross_entropy(net(b[:, :-1]), b[:, 1:]) / len(micro_batches)
                loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            sched.step()
            return loss

        return step

    import deepspeed

    zcfg = cfg.__class__(**{**cfg.__dict__, "zero_stage": int(kind[-1])})
    engine, _, _, _ = deepspeed.initialize(
        model=model, optimizer=zero.client_optimizer(zcfg, zero.param_groups(model, zcfg.weight_decay)),
        lr_scheduler=zero.lr_scheduler_factory(zcfg),
        config=zero.deepspeed_config(zcfg, ctx.world_size, args.precision))

    def step(micro_batches):
        for b in micro_batches:
            loss = cross_entropy(engine(b[:, :-1]), b[:, 1:])
            engine.backward(loss)
            engine.step()
        return loss

    return step


def worker(args) -> None:
    import torch

    from trainer.config import load_config
    from trainer.model.transformer import Transformer, flops_per_token, model_config
    from trainer.train import distributed
    from trainer.train.metrics import device_peak_flops

    ctx = distributed.setup()
    kinds = [k for k in args.kinds.split(",") if k]
    overrides = {"vocab_size": args.vocab, **(BENCH_MODEL if args.preset == "bench" else {})}
    mcfg = model_config("tiny" if args.preset == "bench" else args.preset, overrides)
    cfg = load_config(None, [f"micro_batch_size={args.micro_batch}", f"grad_accum={args.grad_accum}",
                             "steps=100000", "warmup_steps=2", "lr=1e-3"])
    gen = torch.Generator().manual_seed(1234 + ctx.rank)
    pool = [torch.randint(0, args.vocab, (args.micro_batch, args.seq_len + 1), generator=gen).to(ctx.device)
            for _ in range(4)]

    def batches(i):
        return [pool[(i + m) % len(pool)] for m in range(args.grad_accum)]

    def sync(loss):
        loss.item()  # waits for the device
        if ctx.world_size > 1:
            torch.distributed.barrier()

    # First-use costs (library imports, BLAS and allocator pools) must not land on whichever
    # configuration is measured first: pay them on a throwaway plain model.
    if any(k != "plain" for k in kinds):
        import deepspeed  # noqa: F401
    sync(build("plain", Transformer(mcfg), cfg, args, ctx)(batches(0)))

    memory = DeviceMemory() if ctx.device.type == "cuda" else HostMemory()
    steps, peak_mib, n_params = {}, {}, 0
    for kind in kinds:  # built one at a time, so each peak is its own
        memory.start()
        torch.manual_seed(0)
        model = Transformer(mcfg)
        n_params = model.num_params()
        steps[kind] = build(kind, model, cfg, args, ctx)
        for i in range(args.warmup):
            sync(steps[kind](batches(i)))
        peak_mib[kind] = memory.peak()

    rates = {k: [] for k in kinds}
    tokens = args.slot_steps * args.micro_batch * args.grad_accum * args.seq_len * ctx.world_size
    for r in range(args.rounds):
        order = kinds[r % len(kinds):] + kinds[: r % len(kinds)]  # rotate: no kind always goes first
        for kind in order:
            sync(steps[kind](batches(r)))  # settle caches after the previous configuration
            t0 = time.perf_counter()
            for i in range(args.slot_steps):
                loss = steps[kind](batches(r + i))
            sync(loss)
            rates[kind].append(tokens / (time.perf_counter() - t0))

    peak = device_peak_flops(ctx.device, args.precision)
    fpt = flops_per_token(mcfg, n_params, args.seq_len)
    results = {}
    for kind in kinds:
        tps = statistics.median(rates[kind])
        results[kind] = {"tokens_per_s": tps, "rounds": rates[kind], "peak_mib": peak_mib[kind],
                         "mfu": tps * fpt / (peak * ctx.world_size) if peak else None}
    if ctx.is_main:
        device = (torch.cuda.get_device_name() if ctx.device.type == "cuda"
                  else f"cpu, {torch.get_num_threads()} thread(s) per rank")
        print("RESULT " + json.dumps({"n_params": n_params, "world": ctx.world_size, "device": device,
                                      "results": results}), flush=True)
    distributed.teardown(ctx)


# ---------------------------------------------------------------- the driver

def zero_formula_mib(kind: str, n_params: int, world: int, precision: str) -> float:
    p = g = 2 if precision == "bf16" else 4
    k = 12
    per_param = {"plain": 16.0, "zero1": p + g + k / world, "zero2": p + (g + k) / world,
                 "zero3": (p + g + k) / world}[kind]
    return per_param * n_params / 2**20


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    kinds = [k for k in args.kinds.split(",") if k]
    if "plain" not in kinds:
        kinds.insert(0, "plain")
    script = [str(Path(__file__).resolve()), *sys.argv[1:], "--kinds", ",".join(kinds), "--worker"]
    bin_dir = Path(sys.executable).parent
    if args.nprocs > 1:
        cmd = [str(bin_dir / "torchrun"), "--standalone", "--nproc_per_node", str(args.nprocs), *script]
    else:
        cmd = [sys.executable, *script]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.setdefault("TORCH_EXTENSIONS_DIR", str(REPO / "build" / "torch_extensions"))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.exit(f"benchmark failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    run = json.loads(lines[-1][len("RESULT "):])
    res, n, world = run["results"], run["n_params"], run["world"]
    base = res["plain"]["tokens_per_s"]
    print(f"model {args.preset}: {n / 1e6:.2f}M params | seq {args.seq_len} | micro-batch {args.micro_batch} x "
          f"accum {args.grad_accum} x {world} rank(s) | {args.precision} | {run['device']} | "
          f"median of {args.rounds} interleaved rounds of {args.slot_steps} steps")
    header = f"{'config':<24}{'tokens/s':>12}{'vs plain':>10}{'peak MiB':>11}{'ZeRO formula MiB':>18}{'MFU':>8}"
    print(header)
    print("-" * len(header))
    for kind in kinds:
        r = res[kind]
        name = NAMES[kind] + (" (DDP)" if kind == "plain" and world > 1 else "")
        mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "-"
        print(f"{name:<24}{r['tokens_per_s']:>12,.0f}{r['tokens_per_s'] / base:>9.2f}x{r['peak_mib']:>11,.1f}"
              f"{zero_formula_mib(kind, n, world, args.precision):>18,.1f}{mfu:>8}")
    if "zero2" in res:
        print(f"\nZeRO-2 / plain loop: {res['zero2']['tokens_per_s'] / base:.2f}x (target >= 0.80x on CPU)")
    print("peak MiB: per configuration, while it was built and warmed up: CUDA allocated on a GPU, RSS on a "
          "CPU (model states + activations + allocator slack); the formula counts model states only.")


if __name__ == "__main__":
    main()
