"""Process-group setup and shutdown for the `deepspeed` launcher, `torchrun` or a plain `python`.

gloo on CPU (DeepSpeed's CPU accelerator), nccl on CUDA. A plain single process gets the
RANK/WORLD_SIZE/MASTER_* variables a launcher would have set, on a free local port.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool  # we created the process group, so we shut it down
    added_env: list[str] = field(default_factory=list)

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure_accelerator() -> bool:
    """Pick DeepSpeed's accelerator before `import deepspeed` reads it; True when CUDA is used."""
    on_gpu = torch.cuda.is_available() and os.environ.get("DS_ACCELERATOR", "cuda") == "cuda"
    if not on_gpu:
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    return on_gpu


def setup() -> DistContext:
    """Join (or create) the process group. Under a launcher, RANK/WORLD_SIZE/MASTER_* come from it;
    a plain `python` process gets a world of one on a free local port, passed explicitly rather
    than through the environment, so processes it spawns (e.g. an Airflow task) inherit nothing."""
    on_gpu = configure_accelerator()
    added = []
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        init = {}
    elif "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        init = {}
    else:
        rank, world = 0, 1
        init = {"auto_mpi_discovery": False, "init_method": f"tcp://127.0.0.1:{_free_port()}",
                "rank": 0, "world_size": 1}
    if "LOCAL_RANK" not in os.environ:  # DeepSpeed's engine reads it
        os.environ["LOCAL_RANK"] = "0"
        added.append("LOCAL_RANK")
    local_rank = int(os.environ["LOCAL_RANK"])
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("LOCAL_SIZE", world)))
    if not on_gpu and (local_world > 1 or os.environ.get("OMP_NUM_THREADS")):
        # Ranks on one host share its cores; oversubscribed OpenMP pools thrash (ZeRO-3 on 2 ranks of
        # 2 cores ran 7x slower with the default pool). An explicit OMP_NUM_THREADS wins.
        threads = int(os.environ.get("OMP_NUM_THREADS") or max(1, (os.cpu_count() or 1) // local_world))
        torch.set_num_threads(threads)

    import deepspeed

    if world == 1 and not on_gpu:
        # DeepSpeed's CPU backend JIT-builds a shared-memory all-reduce op on init (~40 s, once per
        # venv path); a world of one has no peer to share memory with: plain gloo it is.
        # (`deepspeed.comm.torch` as an attribute is the torch package itself: go through sys.modules.)
        importlib.import_module("deepspeed.comm.torch").build_shm_op = lambda: None
    owns = not dist.is_initialized()
    deepspeed.init_distributed(dist_backend="nccl" if on_gpu else "gloo", verbose=False, **init)
    if on_gpu:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    quiet_deepspeed()
    return DistContext(rank, world, local_rank, device, owns, added)


def quiet_deepspeed() -> None:
    """DeepSpeed's INFO lines per rank drown the trainer's own; and it still calls the collectives
    torch renamed, one FutureWarning per call site and rank."""
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*is deprecated. Please use `torch\.distributed", category=FutureWarning)


def run_in_group(work: Callable[[DistContext], T]) -> T:
    """`work(ctx)` inside the process group, which is torn down after it, failed or not: what a
    command line does (in-process callers, tests among them, keep the group up for the next run)."""
    ctx = setup()
    try:
        result = work(ctx)
    except BaseException:
        teardown(ctx, clean=False)  # no barrier: a failed rank must not wait for its peers
        raise
    teardown(ctx)
    return result


def teardown(ctx: DistContext, clean: bool = True) -> None:
    """Barrier, then destroy the group: ranks that exit while a peer still talks abort the job.
    After a failure (`clean=False`) skip the barrier, which the failed peers would never reach."""
    if ctx.owns_group and dist.is_initialized():
        if clean:
            dist.barrier()
        dist.destroy_process_group()
    for key in ctx.added_env:
        os.environ.pop(key, None)


def all_reduce_mean(values: list[float], device: torch.device) -> list[float]:
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return (t / dist.get_world_size()).tolist()


def seed_everything(seed: int) -> None:
    """Python's, NumPy's and torch's generators from one seed (every trainer command starts with it)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
