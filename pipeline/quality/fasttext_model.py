"""fastText text classifiers (quality and domain): preprocessing, training, evaluation, scoring.

fastText (Joulin et al. 2017) via `fasttext-numpy2`, the build whose `predict` works under
numpy 2. DCLM (Li et al. 2024) filters with exactly this kind of model: a bigram fastText
classifier of "reference-like" vs random web text. Model size is bounded on purpose: the
default `bucket=2,000,000, dim=100` writes an 811 MB `.bin`; `bucket=200,000, dim=64` writes ~55 MB
and `quantize` ~2 MB at the same precision (measured, docs/facts.md).
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from dataclasses import dataclass

import numpy as np

from pipeline.errors import UsageError
from pipeline.score.words import CJK_RANGES

LABEL = "__label__"
# One CJK character, a word (with inner apostrophes), or one punctuation mark: punctuation kept
# apart from words, as the tokenizer.perl preprocessing fastText's docs recommend.
_FT_TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\W{CJK_RANGES}]+(?:'[^\\W{CJK_RANGES}]+)*|[^\\w\\s]")


@dataclass
class FastTextSettings:
    dim: int = 64  # fastText default 100; 64 keeps the model small (docs/facts.md) at equal accuracy here
    bucket: int = 200_000  # fastText default 2M makes an 811 MB model (docs/facts.md)
    # fastText's supervised tutorial ("-lr 1.0 -epoch 25 -wordNgrams 2"); the library defaults
    # (lr 0.1, epoch 5) leave near-uniform probabilities on a few hundred documents.
    epoch: int = 25
    lr: float = 1.0
    word_ngrams: int = 2  # DCLM's classifier uses bigrams
    min_count: int = 1  # fastText supervised default
    max_tokens: int = 2000  # truncate very long documents: enough signal, bounded cost
    quantize: bool = False  # fastText `quantize()`: ~2 MB model, same P@1 (docs/facts.md)
    quantize_cutoff: int = 10_000  # keep this many rows of the input matrix; quantizing all 200k takes minutes
    threads: int = 1  # one thread gives a reproducible model for a given seed


def prepare(text: str, max_tokens: int = 2000) -> str:
    """One line of lowercase tokens (CJK characters split) as fastText expects."""
    return " ".join(_FT_TOKEN.findall((text or "").lower())[:max_tokens])


def split_heldout(rows: list[tuple[str, str]], fraction: float, seed: int):
    """Deterministic stratified train/held-out split of (label, text) rows."""
    rng = random.Random(seed)
    train, held = [], []
    for label in sorted({r[0] for r in rows}):
        group = [r for r in rows if r[0] == label]
        rng.shuffle(group)
        n_held = int(round(len(group) * fraction))
        held += group[:n_held]
        train += group[n_held:]
    rng.shuffle(train)
    return train, held


def train(rows: list[tuple[str, str]], s: FastTextSettings, seed: int):
    """Train a supervised model on (label, text) rows; raise UsageError on unusable data."""
    import fasttext

    labels = {label for label, _ in rows}
    if len(labels) < 2:
        raise UsageError(f"fastText training needs at least two labels, got {sorted(labels)}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as f:
            for label, text in rows:
                line = prepare(text, s.max_tokens)
                if line:
                    f.write(f"{LABEL}{label} {line}\n")
        lr = s.lr
        # lr 1.0 on small, repetitive data can diverge ("Encountered NaN", fastText's FAQ: lower the lr); retry
        # at a quarter each time, down to ~0.004 (seen in CI: 300 generated web docs still NaN at 0.0625)
        for _ in range(5):
            try:
                model = fasttext.train_supervised(
                    input=path, dim=s.dim, bucket=s.bucket, epoch=s.epoch, lr=lr, wordNgrams=s.word_ngrams,
                    minCount=s.min_count, thread=s.threads, seed=seed, verbose=0)
                break
            except RuntimeError as e:
                if "NaN" not in str(e):
                    raise
                lr /= 4
        else:
            raise UsageError("fastText training diverged (NaN) even at a small learning rate; "
                             "the training data is probably degenerate (tiny vocabulary or empty texts)")
        if s.quantize:
            model.quantize(input=path, retrain=False, qnorm=True, cutoff=s.quantize_cutoff)
    return model


def predict(model, texts: list[str], max_tokens: int = 2000) -> tuple[list[str], np.ndarray]:
    """Top label and its probability for each text."""
    if not texts:
        return [], np.zeros(0)
    labels, probs = model.predict([prepare(t, max_tokens) for t in texts], k=1)
    return [lab[0][len(LABEL):] if lab else "" for lab in labels], np.array(
        [p[0] if len(p) else 0.0 for p in probs], dtype="float64")


def probability_of(model, texts: list[str], label: str, max_tokens: int = 2000) -> np.ndarray:
    """P(label | text) for each text (all labels are asked for, so the one we want is there)."""
    if not texts:
        return np.zeros(0)
    n_labels = len(model.get_labels())
    labels, probs = model.predict([prepare(t, max_tokens) for t in texts], k=n_labels)
    want = LABEL + label
    return np.array([float(dict(zip(ls, ps, strict=False)).get(want, 0.0)) for ls, ps in zip(labels, probs,
                                                                                             strict=True)])


def binary_metrics(truth: list[bool], scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Precision, recall, F1 and accuracy of `scores >= threshold` against `truth`."""
    pred = np.asarray(scores) >= threshold
    y = np.asarray(truth, dtype=bool)
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "accuracy": float((pred == y).mean()) if len(y) else 0.0, "n": int(len(y)), "positives": int(y.sum())}
