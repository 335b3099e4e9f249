"""Kernel tests: Triton under the CPU interpreter here and in CI, natively on a CUDA machine.

TRITON_INTERPRET must be set before triton is imported (more precisely, before any
``@triton.jit`` kernel is defined), so it is set here, before anything imports triton. On a
machine with CUDA the variable is left alone and the kernels run compiled; set
TRITON_INTERPRET=1 by hand there to run the interpreter anyway.
"""

import os
import sys

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"
elif os.environ.get("TRITON_INTERPRET", "0") != "1":
    # compiled GPU run: one config per kernel, no autotune search for every small test shape
    os.environ.setdefault("KERNELS_AUTOTUNE", "0")

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    # A kernel compiled without the interpreter cannot run on CPU tensors: if something imported
    # triton before this file could set the variable, say so instead of failing obscurely.
    if "triton" in sys.modules and os.environ.get("TRITON_INTERPRET") != "1" and not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="triton was imported before TRITON_INTERPRET could be set")
        for item in items:
            if "tests/kernels" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
