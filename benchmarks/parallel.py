"""Parallel layouts: per-rank memory at the 125m preset, and tokens/s per rank against data parallelism.

    .venv/bin/python benchmarks/parallel.py memory [--seq 128]   # 125m, 2 gloo ranks per layout
    .venv/bin/python benchmarks/parallel.py speed [--steps 8 --rounds 2]   # tiny model, 2 gloo ranks, vs dp

memory: each layout is built on 2 CPU ranks (one thread each) with the 125m preset's shape (50304-token
vocabulary) and measured per rank: parameter bytes (the local shards: DTensor `to_local`, a pipeline
stage's layers), gradient bytes (= local parameters, fp32), AdamW state (2 x local parameters, fp32)
and activation bytes: the tensors autograd saves for backward during one forward of one sequence
(`saved_tensors_hooks`, storages counted once, parameters excluded). Activations are linear in the
sequence length here (torch's CPU SDPA kernel saves no T x T matrix), so the 2048-token figure is the
measured one x 2048/seq. ZeRO rows are computed from the dp row with ZeRO's formula (Rajbhandari et al.
2020): they need the engine's partitions, not a module. A pipeline stage holds up to pp micro-batches'
activations in flight under 1F1B; the table shows one.

speed: the tiny model of trainer/parallel/exactness.py (fp32 AdamW, clipping) trained on 2 gloo ranks in
each layout, and data parallelism (each rank its own batch, gradients all-reduced) as the baseline,
timed in the same run; tokens/s per rank = tokens the group trained / seconds / ranks. These are
toy sizes on a shared 2-core CPU: communication dominates, so the ratios say what each layout costs
in messages, not what it gains on accelerators.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py
sys.path.insert(0, os.path.dirname(HERE))

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.distributed.tensor import DTensor  # noqa: E402

os.environ.setdefault("DS_ACCELERATOR", "cpu")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from trainer.model.transformer import Transformer, model_config  # noqa: E402
from trainer.parallel import exactness, expert_parallel, pipeline, sequence_parallel, tensor_parallel  # noqa: E402
from trainer.parallel.spawn import spawn  # noqa: E402

MEMORY_LAYOUTS = ("dp", "tp", "pp", "sp", "cp")
SPEED_LAYOUTS = ("dp", "tp", "sp", "cp", "pp", "dp_moe", "ep")
WHAT = {"dp": "nothing (each rank a full replica, own batch)", "tp": "block weights (heads, MLP columns)",
        "pp": "layers (stages)", "sp": "activations by sequence; attention by heads (Ulysses all-to-all)",
        "cp": "activations by sequence (ring attention)", "ep": "experts (MoE)"}
MiB = 2 ** 20


def _local(t: torch.Tensor) -> torch.Tensor:
    return t.to_local() if isinstance(t, DTensor) else t


def saved_bytes(forward, params) -> int:
    """Bytes of the tensors autograd saves during `forward()`, each storage once, parameters excluded."""
    skip = {_local(p).untyped_storage().data_ptr() for p in params}
    seen: dict[int, int] = {}

    def pack(t):
        local = t.to_local() if isinstance(t, DTensor) else t
        try:
            key, size = local.untyped_storage().data_ptr(), local.untyped_storage().nbytes()
        except RuntimeError:  # a tensor without a plain storage: count its own bytes
            key, size = id(local), local.numel() * local.element_size()
        if key not in skip:
            seen[key] = size
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        forward()
    return sum(seen.values())


def measure_rank(rank: int, world: int, layout: str, seq: int, out: str) -> None:
    cfg = model_config("125m", {"vocab_size": 50304})
    torch.manual_seed(0)
    tokens = torch.randint(0, cfg.vocab_size, (1, seq + 1))
    group = dist.group.WORLD
    if layout == "pp":
        sequence_parallel.init_deepspeed_comm()
        module = pipeline.pipeline_module(cfg, world)
        x = tokens[:, :-1] if rank == 0 else torch.randn(1, seq, cfg.dim, requires_grad=True)
        forward = lambda: module(x)  # noqa: E731
    else:
        module = Transformer(cfg)
        if layout == "tp":
            from torch.distributed.device_mesh import init_device_mesh

            tensor_parallel.parallelize(module, init_device_mesh("cpu", (world,)))
        if layout in ("sp", "cp"):
            sequence_parallel.split_sequence(module, group, "ulysses" if layout == "sp" else "ring")
            inputs, _, positions = sequence_parallel.chunk(tokens, group)
            forward = lambda: module(inputs, positions=positions)  # noqa: E731
        else:
            forward = lambda: module(tokens[:, :-1])  # noqa: E731
    params = list(module.parameters())
    param_bytes = sum(_local(p).numel() * _local(p).element_size() for p in params)
    activations = saved_bytes(forward, params)
    Path(out, f"{layout}-{rank}.json").write_text(json.dumps({"params": param_bytes, "activations": activations}))


def memory(seq: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        for layout in MEMORY_LAYOUTS:
            spawn(measure_rank, 2, layout, seq, out)
        rows = {layout: [json.loads(Path(out, f"{layout}-{r}.json").read_text()) for r in range(2)]
                for layout in MEMORY_LAYOUTS}
    scale = 2048 / seq
    print(f"125m preset (vocab 50304, fp32, AdamW), 2 ranks, micro-batch 1; activations measured at seq {seq}, "
          f"x{scale:.0f} for 2048 (linear); per rank, the larger of the two ranks; MiB")
    print("| layout | shards | params | grads | AdamW state | activations @2048 | source |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for layout, ranks in rows.items():
        p = max(r["params"] for r in ranks)
        a = max(r["activations"] for r in ranks) * scale
        name = "dp=2 (ZeRO-0)" if layout == "dp" else f"{layout}=2"
        print(f"| {name} | {WHAT[layout]} | {p / MiB:,.0f} | {p / MiB:,.0f} | {2 * p / MiB:,.0f} | "
              f"{a / MiB:,.0f} | measured |")
    p = max(r["params"] for r in rows["dp"])
    a = max(r["activations"] for r in rows["dp"]) * scale
    for stage, (pp, gg, oo) in {1: (p, p, p), 2: (p, p / 2, p), 3: (p / 2, p / 2, p)}.items():
        print(f"| dp=2 ZeRO-{stage} | optimizer state{', gradients' if stage > 1 else ''}"
              f"{', parameters' if stage > 2 else ''} | {pp / MiB:,.0f} | {gg / MiB:,.0f} | {oo / MiB:,.0f} | "
              f"{a / MiB:,.0f} | computed |")


def _dp_loss(rank: int, world: int):
    def loss(model, window):  # this rank's share of the global batch
        share = window.shape[0] // world
        ce = exactness.causal_lm_loss(model, window[rank * share:(rank + 1) * share])[0]
        reported = ce.detach().clone()
        dist.all_reduce(reported)
        return ce, reported / world

    return loss


def _dp_reduce(model) -> None:
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad.div_(dist.get_world_size())


def speed_rank(rank: int, world: int, layout: str, steps: int, out: str) -> None:
    group = dist.group.WORLD
    moe = dict(n_experts=4, moe_top_k=2) if layout in ("ep", "dp_moe") else {}
    model = exactness.tiny_model(**moe)
    batch = 4
    data = exactness.batches(model.cfg, steps + 2, batch=batch, seq=32)
    per_step = batch * 32  # tokens the whole group trains per step
    if layout in ("dp", "dp_moe", "ep"):
        if layout == "ep":
            expert_parallel.shard_experts(model, group)
        kwargs = dict(loss_fn=_dp_loss(rank, world),
                      after_backward=(lambda m: expert_parallel.reduce_grads(m, group)) if layout == "ep" else _dp_reduce)
    elif layout == "tp":
        from torch.distributed.device_mesh import init_device_mesh

        tensor_parallel.parallelize(model, init_device_mesh("cpu", (world,)))
        kwargs = dict(loss_fn=exactness.causal_lm_loss)
    elif layout in ("sp", "cp"):
        sequence_parallel.split_sequence(model, group, "ulysses" if layout == "sp" else "ring")
        kwargs = dict(loss_fn=lambda m, w: sequence_parallel.chunk_loss(m, w, group),
                      after_backward=lambda m: sequence_parallel.reduce_grads(m, group))
    if layout == "pp":
        import deepspeed

        sequence_parallel.init_deepspeed_comm()
        pipe = pipeline.pipeline_module(model.cfg, world)
        engine, *_ = deepspeed.initialize(model=pipe, optimizer=exactness.optimizer(list(pipe.parameters())), config={
            "train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": batch, "train_batch_size": batch,
            "steps_per_print": 1 << 30, "gradient_clipping": 1.0})

        def run(windows):
            for w in windows:
                engine.train_batch(iter([(w[i:i + 1, :-1], w[i:i + 1, 1:]) for i in range(batch)]))
    else:
        def run(windows):
            exactness.train(model, windows, **kwargs)
    run(data[:2])  # warm-up: first calls, meta exchanges
    dist.barrier()
    start = time.perf_counter()
    run(data[2:])
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        Path(out, f"{layout}.json").write_text(json.dumps({"tokens_per_s_per_rank": per_step * steps / seconds / world}))


def speed(steps: int, rounds: int) -> None:
    """Rounds alternate the layouts' order; the best round of each counts (the least disturbed by
    whatever else the machine runs)."""
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as out:
        for r in range(rounds):
            for layout in SPEED_LAYOUTS[::-1] if r % 2 else SPEED_LAYOUTS:
                spawn(speed_rank, 2, layout, steps, out)
                tps = json.loads(Path(out, f"{layout}.json").read_text())["tokens_per_s_per_rank"]
                found[layout] = max(found.get(layout, 0.0), tps)
    found = {layout: found[layout] for layout in SPEED_LAYOUTS}
    print(f"tiny model (dim 64, 2 layers, seq 32, batch 4 per step), fp32, 2 gloo ranks x 1 thread, {steps} steps, "
          f"best of {rounds} rounds;")
    print("measured on this shared 2-core CPU (toy sizes: communication dominates)")
    print("| layout | tokens/s per rank | vs dp |")
    print("| --- | ---: | ---: |")
    for layout, tps in found.items():
        base = found["dp_moe" if layout in ("ep", "dp_moe") else "dp"]
        print(f"| {layout} | {tps:,.0f} | {tps / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["memory", "speed"])
    parser.add_argument("--seq", type=int, default=128, help="memory: measured sequence length")
    parser.add_argument("--steps", type=int, default=8, help="speed: timed steps")
    parser.add_argument("--rounds", type=int, default=2, help="speed: rounds, order alternating")
    args = parser.parse_args()
    memory(args.seq) if args.what == "memory" else speed(args.steps, args.rounds)


if __name__ == "__main__":
    main()
