"""Shared Triton plumbing: interpreter detection and the autotune config lists.

Only imported by the ``triton_*`` modules, i.e. only once Triton is actually needed.
"""

from __future__ import annotations

import os

import triton

# TRITON_INTERPRET=1 must be set before triton is first imported; read it the same way triton does.
INTERPRET = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
# KERNELS_AUTOTUNE=0 pins each kernel to its first GPU config: test runs on a GPU then compile
# one variant per shape class instead of benchmarking the whole search space for every shape.
AUTOTUNE = os.environ.get("KERNELS_AUTOTUNE", "1") != "0"


def autotune_configs(gpu_configs: list[triton.Config], safe_config: triton.Config,
                     interpreter_config: triton.Config) -> list[triton.Config]:
    """The GPU search space, or one config when autotuning is off or impossible.

    ``safe_config`` (small tiles, 2 stages) fits shared memory for every dtype and head dim we
    support, fp32 included; it ends the search space so the autotuner always has a runnable
    config, and is the only one used with KERNELS_AUTOTUNE=0. The interpreter cannot benchmark
    several configs ("0 active drivers"), and small blocks keep its cost down while still giving
    ragged shapes several blocks to cross.
    """
    if INTERPRET:
        return [interpreter_config]
    return [*gpu_configs, safe_config] if AUTOTUNE else [safe_config]


def check_device(*tensors) -> None:
    """Triton needs CUDA tensors, or CPU tensors under the interpreter."""
    for t in tensors:
        if t is None or t.is_cuda:
            continue
        if INTERPRET and t.device.type == "cpu":
            continue
        raise RuntimeError(
            "the triton implementation needs CUDA tensors (or CPU tensors with TRITON_INTERPRET=1 "
            f"set before triton is imported); got a tensor on {t.device}. Use impl='torch'."
        )
