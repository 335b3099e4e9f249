"""Run a function on `world` local CPU processes joined by gloo: the exactness tests and the benchmark.

One thread per rank (ranks share the host's cores; oversubscribed OpenMP pools thrash), a free port per
call, and the group torn down after a barrier (ranks that exit while a peer still talks abort the job).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank: int, world: int, port: int, fn: Callable, args: tuple) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world), DS_ACCELERATOR="cpu")
    # a collective left waiting by a failed peer errors after this long instead of hanging
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=int(os.environ.get("PARALLEL_TIMEOUT_S", "300"))))
    try:
        fn(rank, world, *args)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def spawn(fn: Callable, world: int, *args) -> None:
    """`fn(rank, world, *args)` on `world` processes; an exception on any rank fails the call with its
    traceback. `fn` must be importable (a module-level function)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    mp.spawn(_entry, args=(world, free_port(), fn, args), nprocs=world, join=True)
