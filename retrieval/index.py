"""The index a run's `index` stage writes, and hybrid (dense + BM25) search over it.

Layout of `<data_root>/<run>/index/`:
  chunks/      Parquet: chunk_id, doc_id, chunk_index, title, url, text, emb (l2-normalised float32)
  bm25/        a bm25s index over the chunk texts in chunk_id order
  index.json   the embedding model's path and the chunk settings (what queries must use too)
Ranks are fused with reciprocal rank fusion (Cormack et al. 2009, k=60): it needs no score
calibration between cosine similarities and BM25 scores, and beat either ranker alone there.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

INDEX_META = "index.json"
RRF_K = 60  # Cormack, Clarke & Buettcher 2009: k=60 was near-best on every TREC collection they tried
STOPWORDS = "en"  # bm25s' bundled English list: nothing to download


class IndexMissing(LookupError):
    """The run has no usable index (never built, or built by an unfinished attempt)."""


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    url: str
    text: str
    score: float  # fused RRF score (higher is better)
    dense_rank: int | None
    bm25_rank: int | None

    def as_dict(self) -> dict:
        return {"chunk_id": self.chunk_id, "doc_id": self.doc_id, "title": self.title, "url": self.url,
                "text": self.text, "score": round(self.score, 6), "dense_rank": self.dense_rank,
                "bm25_rank": self.bm25_rank}


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords=STOPWORDS, return_ids=False, show_progress=False)


@lru_cache(maxsize=2)
def embedding_model(path: str):
    """A model2vec static model from a local directory; never fetched from a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from model2vec import StaticModel

    if not Path(path).is_dir():
        raise IndexMissing(f"embedding model not found at {path} (a local model2vec directory)")
    return StaticModel.from_pretrained(path)


def embed_queries(model_path: str, texts: list[str]) -> np.ndarray:
    emb = np.asarray(embedding_model(model_path).encode(texts), dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.where(norms == 0, 1.0, norms)


class CorpusIndex:
    """An index directory loaded into memory: chunk table, embedding matrix, BM25 retriever."""

    def __init__(self, path: str | Path):
        import bm25s
        import pandas as pd

        self.path = Path(path)
        meta_path = self.path / INDEX_META
        if not (self.path / "_SUCCESS").is_file() or not meta_path.is_file():
            raise IndexMissing(f"no finished index at {self.path} (run `python -m pipeline index` first)")
        self.meta = json.loads(meta_path.read_text())
        chunks = pd.read_parquet(self.path / "chunks")
        self.chunks = chunks.sort_values("chunk_id", kind="stable").reset_index(drop=True)
        self.embeddings = (np.stack(self.chunks["emb"].to_numpy()).astype(np.float32) if len(self.chunks)
                           else np.zeros((0, 1), dtype=np.float32))
        self.bm25 = bm25s.BM25.load(str(self.path / "bm25"), show_progress=False) if len(self.chunks) else None

    def __len__(self) -> int:
        return len(self.chunks)

    def dense_ranking(self, query: str, n: int) -> list[int]:
        q = embed_queries(self.meta["embedding"]["model_path"], [query])[0]
        scores = self.embeddings @ q
        return [int(i) for i in np.argsort(-scores, kind="stable")[:n]]

    def bm25_ranking(self, query: str, n: int) -> list[int]:
        tokens = bm25_tokens([query])
        if self.bm25 is None or not tokens[0]:
            return []
        vocab = self.bm25.vocab_dict
        known = [[t for t in tokens[0] if t in vocab]]
        if not known[0]:
            return []
        docs, scores = self.bm25.retrieve(known, k=min(n, len(self)), show_progress=False)
        return [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def search(self, query: str, k: int = 5, mode: str = "hybrid", pool: int = 50) -> list[Hit]:
        """The top-k chunks for a query. mode: hybrid (RRF of both), dense, or bm25."""
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"mode must be hybrid, dense or bm25, got {mode!r}")
        if not query.strip() or not len(self):
            return []
        dense = self.dense_ranking(query, pool) if mode in ("hybrid", "dense") else []
        lexical = self.bm25_ranking(query, pool) if mode in ("hybrid", "bm25") else []
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        dense_rank = {row: r + 1 for r, row in enumerate(dense)}
        bm25_rank = {row: r + 1 for r, row in enumerate(lexical)}
        top = sorted(fused, key=lambda row: (-fused[row], row))[:k]
        out = []
        for row in top:
            c = self.chunks.iloc[row]
            out.append(Hit(str(c["chunk_id"]), str(c["doc_id"]), str(c["title"] or ""), str(c["url"] or ""),
                           str(c["text"]), fused[row], dense_rank.get(row), bm25_rank.get(row)))
        return out


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> CorpusIndex:
    return CorpusIndex(path)


def load_index(path: str | Path) -> CorpusIndex:
    """The index at `path`, cached while its _SUCCESS marker is unchanged (a rebuilt index reloads)."""
    marker = Path(path) / "_SUCCESS"
    if not marker.is_file():
        raise IndexMissing(f"no finished index at {path} (run `python -m pipeline index` first)")
    return _cached(str(Path(path).resolve()), marker.stat().st_mtime)


_SAFE_RUN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def run_index_path(data_root: str | Path, run_id: str) -> Path:
    """`<data_root>/<run>/index`; a run id that could leave the data root is refused."""
    if not _SAFE_RUN.match(run_id) or ".." in run_id:
        raise IndexMissing(f"not a run id: {run_id!r}")
    return Path(data_root) / run_id / "index"
