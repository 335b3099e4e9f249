"""LLM quality annotation, the FineWeb-Edu method (Penedo et al. 2024): a served model scores a sample of
documents 0-5 on an additive educational-value rubric; a classifier trained on those scores then scores
every document (train-quality.reference=llm; the quality stage applies it as it applies the reference-set
model). Agreement is Spearman's rho between the annotator's scores and the classifier's P(hq) on held-out
annotated documents.

The rubric is FineWeb-Edu's annotation prompt, shortened: one point per criterion met, five at most. The
reply is prefilled with "Educational score: " and the score is the probability-weighted mean of the digits
0-5 over the first generated token's top log-probabilities (G-Eval's scoring): one token per document, and a
number even from a model that would not keep to the format (SmolLM2-135M wrote "Educational score: 100" or
prose when asked for the line).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

RUBRIC = """Below is an extract from a web page. Evaluate whether the page has a high educational value and \
could be useful in an educational setting for teaching from primary school to grade school levels, using \
the additive 5-point scoring system described below. Points are accumulated based on the satisfaction of \
each criterion:
- Add 1 point if the extract provides some basic information relevant to educational topics, even if it \
includes some irrelevant or non-academic content like advertisements and promotional material.
- Add another point if the extract addresses certain elements pertinent to education but does not align \
closely with educational standards. It might mix educational content with non-educational material.
- Award a third point if the extract is appropriate for educational use and introduces key concepts \
relevant to school curricula. It is coherent though it may not be comprehensive.
- Grant a fourth point if the extract is highly relevant and beneficial for educational purposes for a \
level not higher than grade school, exhibiting a clear and consistent writing style.
- Bestow a fifth point if the extract is outstanding in its educational value, perfectly suited for \
teaching either at primary school or grade school.
After examining the extract, conclude with the score using the format: "Educational score: <points>"."""

_SCORE = re.compile(r"educational score\W{0,5}([0-5])\b", re.I)
_DIGIT = re.compile(r"(?<![\d.])([0-5])(?![\d.])")


def annotate_messages(text: str, max_chars: int = 2000) -> list[dict[str, str]]:
    # the rubric first: every request shares it as a prefix (the engine's prefix cache reuses its KV)
    return [{"role": "system", "content": RUBRIC}, {"role": "user", "content": f"Extract:\n{text[:max_chars]}"},
            {"role": "assistant", "content": PREFILL}]


PREFILL = "Educational score: "
# vLLM: continue the prefilled assistant turn instead of opening a new one
PREFILL_BODY = {"continue_final_message": True, "add_generation_prompt": False}


def parse_score(out: str | None) -> float | None:
    """The 0-5 score of an annotation: from {"top": {token: logprob}} the probability-weighted mean of the
    digit tokens; from text "Educational score: N", else a lone digit 0-5 at the end."""
    if not out:
        return None
    if out.startswith("{"):
        try:
            top = json.loads(out)["top"]
        except (ValueError, KeyError, TypeError):
            return None
        p = {int(t.strip()): math.exp(lp) for t, lp in top.items() if t.strip() in ("0", "1", "2", "3", "4", "5")}
        total = sum(p.values())
        return sum(k * v for k, v in p.items()) / total if total else None
    m = _SCORE.search(out)
    if m:
        return int(m.group(1))
    digits = _DIGIT.findall(out[-40:])
    return int(digits[-1]) if digits else None


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(len(x), dtype=float)
    for v in np.unique(x):  # ties get their average rank
        tie = x == v
        ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rho (Pearson's r of average ranks); None when either side is constant or too short."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return None
    rx, ry = _ranks(x), _ranks(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def threshold_for(scores: list[float], wanted: float) -> float:
    """FineWeb-Edu's cut (score >= 3 is "hq"), or the median when the annotator leaves one side empty."""
    if any(s >= wanted for s in scores) and any(s < wanted for s in scores):
        return wanted
    return float(np.median(scores)) if scores else wanted
