"""Packed token shards the trainer memory-maps (format `llm-pipeline-tokens/1`).

`<run>/tokens/` holds
    tokenizer.json            HF tokenizers byte-level BPE; special tokens <|endoftext|> (EOS),
                              <|im_start|>, <|im_end|>; tokenizer_config.json adds the chat template
    train-00000.bin, ...      flat little-endian token ids (uint16, or uint32 when vocab_size > 65535);
    val-00000.bin             documents concatenated, each followed by the EOS id
    train-00000.docs.bin      little-endian uint64 end offset (in tokens, EOS included) of each
                              document in the shard: document i spans [ends[i-1], ends[i]) (ends[-1] = 0)
    index.json                {"format": "llm-pipeline-tokens/1", "dtype", "vocab_size", "eos_id",
                              "tokenizer": "tokenizer.json", "shards": [{"file", "split", "num_tokens",
                              "num_docs", "doc_ends"}, ...], plus extras (per-domain tokens, val_fraction,
                              seed, sft and rl paths)}
A document never spans two shards; a shard is closed once it holds `shard_tokens` tokens or more.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FORMAT = "llm-pipeline-tokens/1"


class ShardWriter:
    """Appends documents (token arrays) to `<split>-NNNNN.bin`, rolling over at `shard_tokens`."""

    def __init__(self, out_dir: Path, split: str, dtype: str, eos_id: int, shard_tokens: int,
                 mask: bool = False):
        self.out_dir, self.split, self.dtype = Path(out_dir), split, np.dtype(dtype).newbyteorder("<")
        self.eos_id, self.shard_tokens, self.mask = eos_id, shard_tokens, mask
        self.shards: list[dict] = []
        self._fh = self._mask_fh = None
        self._ends: list[int] = []
        self._tokens = 0

    def _open(self) -> None:
        name = f"{self.split}-{len(self.shards):05d}"
        self._name = name
        self._fh = open(self.out_dir / f"{name}.bin", "wb")  # noqa: SIM115 (closed in _close)
        if self.mask:
            self._mask_fh = open(self.out_dir / f"{name}.mask.bin", "wb")  # noqa: SIM115
        self._ends, self._tokens = [], 0

    def add(self, ids: np.ndarray, mask: np.ndarray | None = None) -> None:
        if self._fh is None:
            self._open()
        ids = np.append(np.asarray(ids, dtype=self.dtype), np.array([self.eos_id], dtype=self.dtype))
        self._fh.write(ids.tobytes())
        if self.mask:
            m = np.append(np.asarray(mask, dtype=np.uint8), np.uint8(0))
            self._mask_fh.write(m.tobytes())
        self._tokens += len(ids)
        self._ends.append(self._tokens)
        if self._tokens >= self.shard_tokens:
            self._close()

    def _close(self) -> None:
        if self._fh is None:
            return
        self._fh.close()
        if self._mask_fh is not None:
            self._mask_fh.close()
        ends_file = f"{self._name}.docs.bin"
        np.asarray(self._ends, dtype="<u8").tofile(self.out_dir / ends_file)
        entry = {"file": f"{self._name}.bin", "split": self.split, "num_tokens": self._tokens,
                 "num_docs": len(self._ends), "doc_ends": ends_file}
        if self.mask:
            entry["mask"] = f"{self._name}.mask.bin"
        self.shards.append(entry)
        self._fh = self._mask_fh = None

    def finish(self, always_one: bool = True) -> list[dict]:
        """Close the open shard; with `always_one`, an empty split still gets an empty shard 00000."""
        self._close()
        if always_one and not self.shards:
            self._open()
            self._close()
        return self.shards


def read_shard(path: Path, dtype: str) -> np.ndarray:
    return np.memmap(path, dtype=np.dtype(dtype).newbyteorder("<"), mode="r")


def documents_of(shard_dir: Path, entry: dict, dtype: str) -> list[np.ndarray]:
    """The token arrays of one shard's documents, EOS removed (for checks and tools)."""
    ends = np.fromfile(Path(shard_dir) / entry["doc_ends"], dtype="<u8").astype(np.int64)
    if not len(ends):  # an empty split's shard 00000: no documents (np.memmap refuses a 0-byte file)
        return []
    tokens = np.asarray(read_shard(Path(shard_dir) / entry["file"], dtype))
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    return [tokens[s:e - 1] for s, e in zip(starts, ends, strict=True)]
