"""Packed token shards (written by the pipeline's tokenize stage), read through np.memmap.

Layout of `<run>/tokens/`: `index.json` ("llm-pipeline-tokens/1"), `tokenizer.json`, and flat
little-endian `train-NNNNN.bin` / `val-NNNNN.bin` files in which documents are concatenated, each
followed by the EOS id. Training packs across document boundaries (GPT-2/3 style): a window of
`seq_len + 1` tokens gives inputs `[:-1]` and targets `[1:]`.

The sampler is a pure function of (seed, epoch, cursor): its state goes into every checkpoint, so a
resumed run draws exactly the windows the uninterrupted run would have drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FORMAT = "llm-pipeline-tokens/1"
DTYPES = {"uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}


class ShardError(ValueError):
    """The tokens directory does not hold what index.json promises."""


@dataclass
class Shard:
    file: str
    split: str
    num_tokens: int
    num_docs: int


class TokenShards:
    """The tokens directory: its index, tokenizer path and memory-mapped shards per split."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        index_path = self.root / "index.json"
        if not index_path.is_file():
            raise ShardError(f"{index_path} not found: is {self.root} a tokenize stage output?")
        self.index = json.loads(index_path.read_text())
        if self.index.get("format") != FORMAT:
            raise ShardError(f"{index_path}: format {self.index.get('format')!r}, expected {FORMAT!r}")
        if self.index["dtype"] not in DTYPES:
            raise ShardError(f"{index_path}: dtype {self.index['dtype']!r} not in {sorted(DTYPES)}")
        self.dtype = DTYPES[self.index["dtype"]]
        self.vocab_size = int(self.index["vocab_size"])
        self.eos_id = int(self.index["eos_id"])
        if self.vocab_size > np.iinfo(self.dtype).max + 1:
            raise ShardError(f"vocab_size {self.vocab_size} does not fit {self.index['dtype']}")
        self.shards = [Shard(**{k: s[k] for k in ("file", "split", "num_tokens", "num_docs")})
                       for s in self.index["shards"]]

    @property
    def tokenizer_path(self) -> Path:
        return self.root / self.index.get("tokenizer", "tokenizer.json")

    def split(self, name: str) -> list[np.memmap]:
        arrays = []
        for shard in self.shards:
            if shard.split != name or shard.num_tokens == 0:
                continue
            path = self.root / shard.file
            if not path.is_file():
                raise ShardError(f"{path} listed in index.json but missing")
            size = path.stat().st_size
            if size != shard.num_tokens * self.dtype.itemsize:
                raise ShardError(f"{path}: {size} bytes, index.json says {shard.num_tokens} {self.dtype} tokens")
            arrays.append(np.memmap(path, dtype=self.dtype, mode="r", shape=(shard.num_tokens,)))
        return arrays

    def num_tokens(self, split: str) -> int:
        return sum(s.num_tokens for s in self.shards if s.split == split)


class PackedWindows:
    """Non-overlapping windows of `seq_len + 1` tokens over a list of shards (none spans two)."""

    def __init__(self, arrays: list[np.ndarray], seq_len: int):
        self.arrays, self.seq_len = arrays, seq_len
        counts = [max(0, (len(a) - 1) // seq_len) for a in arrays]
        self.starts = np.cumsum([0, *counts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i: int) -> np.ndarray:
        if not 0 <= i < len(self):
            raise IndexError(i)
        shard = int(np.searchsorted(self.starts, i, side="right") - 1)
        offset = (i - int(self.starts[shard])) * self.seq_len
        return self.arrays[shard][offset : offset + self.seq_len + 1]

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets), each (len(indices), seq_len) int64."""
        rows = np.stack([np.asarray(self[int(i)], dtype=np.int64) for i in indices])
        t = torch.from_numpy(rows)
        return t[:, :-1], t[:, 1:]


class EpochSampler:
    """Walks a fresh seeded permutation of window indices each epoch; `state_dict` is its position."""

    def __init__(self, num_windows: int, seed: int):
        if num_windows <= 0:
            raise ShardError("no training window: the train split holds fewer tokens than seq_len + 1")
        self.num_windows, self.seed = num_windows, seed
        self.epoch, self.cursor = 0, 0
        self._perm = self._permutation(0)

    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_windows)

    def take(self, n: int) -> np.ndarray:
        out = []
        while n > 0:
            if self.cursor == self.num_windows:
                self.epoch, self.cursor = self.epoch + 1, 0
                self._perm = self._permutation(self.epoch)
            k = min(n, self.num_windows - self.cursor)
            out.append(self._perm[self.cursor : self.cursor + k])
            self.cursor, n = self.cursor + k, n - k
        return np.concatenate(out)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "num_windows": self.num_windows, "epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        if state["num_windows"] != self.num_windows or state["seed"] != self.seed:
            raise ShardError(
                f"checkpoint sampler saw {state['num_windows']} windows (seed {state['seed']}); this data has "
                f"{self.num_windows} (seed {self.seed}): resuming on different data or seq_len would not reproduce"
            )
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._perm = self._permutation(self.epoch)


def rank_slice(indices: np.ndarray, micro_batch: int, micro_step: int, rank: int, world_size: int) -> np.ndarray:
    """This rank's windows for one micro-step of a global step's `indices`.

    Laid out micro-step major, then rank, so the global batch is the same windows whatever the world
    size: 2 ranks × 1 micro-step see what 1 rank × 2 micro-steps sees."""
    start = (micro_step * world_size + rank) * micro_batch
    return indices[start : start + micro_batch]


def val_batches(windows: PackedWindows, micro_batch: int, max_batches: int, rank: int, world_size: int):
    """The first batches of the val split, dealt round-robin to ranks; every rank gets the same count
    (ZeRO-3 gathers parameters collectively in forward, so ranks must run equal numbers of passes)."""
    per_rank = min(max_batches, len(windows) // micro_batch // world_size)
    for b in range(per_rank):
        first = (b * world_size + rank) * micro_batch
        yield windows.batch(range(first, first + micro_batch))
