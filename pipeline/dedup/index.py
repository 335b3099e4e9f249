"""datasketch `MinHashLSH` path: dedup a small or incremental batch against an index persisted on disk.

Same signature parameters as the Spark path (num_perm, seed, shingling, bands x rows), because the
signatures are the vectorised ones of `minhash.py`, bit-identical to datasketch's own. Use it when a
new crawl must be checked against everything kept before; the index lives in one process (no Spark),
so keep it to what fits in driver memory. The file is a pickle: load only indexes you wrote.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.dedup.lsh_params import optimal_bands_rows
from pipeline.dedup.minhash import signatures
from pipeline.dedup.shingles import shingle_hashes


class MinHashIndex:
    def __init__(self, threshold: float = 0.8, num_perm: int = 128, seed: int = 1, ngram: int = 5,
                 bands_rows: tuple[int, int] | None = None, fp_weight: float = 0.05, fn_weight: float = 0.95):
        from datasketch import MinHashLSH

        self.threshold, self.num_perm, self.seed, self.ngram = threshold, num_perm, seed, ngram
        self.bands_rows = bands_rows or optimal_bands_rows(threshold, num_perm, fp_weight, fn_weight)
        self.lsh = MinHashLSH(num_perm=num_perm, params=self.bands_rows)

    def _minhashes(self, texts: Sequence[str]):
        from datasketch import LeanMinHash, MinHash

        hashes, offsets = shingle_hashes(list(texts), self.ngram)
        sig = signatures(hashes, offsets, self.num_perm, self.seed)
        empty = np.diff(offsets) == 0
        return [None if e else LeanMinHash(MinHash(num_perm=self.num_perm, seed=self.seed,
                                                   hashvalues=s, scheme="affine32"))
                for s, e in zip(sig, empty, strict=True)]

    def dedup(self, ids: Sequence[str], texts: Sequence[str]) -> dict[str, str | None]:
        """Each id -> the indexed id it duplicates (smallest match), or None; new survivors are inserted.

        Within the batch, documents are processed in id order, so an earlier id wins deterministically.
        Matches are MinHash estimates >= threshold (datasketch's query returns band collisions).
        """
        result: dict[str, str | None] = {}
        order = sorted(range(len(ids)), key=lambda i: ids[i])
        mhs = self._minhashes(texts)
        for i in order:
            m = mhs[i]
            if m is None:
                result[ids[i]] = None
                continue
            # An id already indexed (a rerun) is not its own duplicate: reruns stay idempotent.
            matches = [k for k in self.lsh.query(m)
                       if k != ids[i] and self._sigs[k].jaccard(m) >= self.threshold]
            result[ids[i]] = min(matches) if matches else None
            if not matches and ids[i] not in self._sigs:
                self.lsh.insert(ids[i], m)
                self._sigs[ids[i]] = m
        return result

    @property
    def _sigs(self) -> dict:
        if not hasattr(self, "_sig_store"):
            self._sig_store: dict = {}
        return self._sig_store

    def __len__(self) -> int:
        return len(self._sigs)

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{path}.tmp")
        tmp.write_bytes(pickle.dumps(self))
        tmp.replace(path)  # atomic: a crash never leaves half an index

    @staticmethod
    def load(path: str | Path) -> MinHashIndex:
        return pickle.loads(Path(path).read_bytes())

    @classmethod
    def open(cls, path: str | Path, **params) -> MinHashIndex:
        """The index at `path`, or a new one with `params`; parameters must match an existing index."""
        if Path(path).exists():
            index = cls.load(path)
            for key, value in params.items():
                if getattr(index, key) != value and key != "bands_rows":
                    raise ValueError(f"index at {path} has {key}={getattr(index, key)!r}, asked {value!r}")
            return index
        return cls(**params)
