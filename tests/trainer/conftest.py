from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.trainer.token_fixture import write_token_shards

# DeepSpeed's CPU accelerator; set before anything imports deepspeed.
os.environ.setdefault("DS_ACCELERATOR", "cpu")
# DeepSpeed JIT-builds its CPU shared-memory op into TORCH_EXTENSIONS_DIR; the build is keyed to
# the venv's path, so checkouts sharing ~/.cache/torch_extensions rebuild each other's. One per checkout.
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(Path(__file__).resolve().parents[2] / "build" / "torch_extensions"))


@pytest.fixture(scope="session")
def token_dir(tmp_path_factory):
    """Token shards in the tokenize stage's format, from a BPE trained on generated text."""
    return write_token_shards(tmp_path_factory.mktemp("tokens"))


@pytest.fixture(scope="session", autouse=True)
def _shut_down_process_group():
    """In-process training (trainer.train.pretrain.train) leaves its world-of-one group up between runs,
    as DeepSpeed caches groups; close it once at the end, as `python -m trainer train` does."""
    yield
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
