"""All rule sets over one document in the order datatrove's FineWeb pipeline runs them.

Gopher repetition and Gopher quality look at the text as it came; the C4 line rules then
modify it; FineWeb's rules look at the modified text. One `DocView` per text is shared by every
rule that needs the same lines or words (the per-rule plain loop re-splits each time; see
benchmarks/score.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.score import c4, fineweb, gopher, gopher_repetition
from pipeline.score.gopher import DocView
from pipeline.score.user_rules import UserRule, user_metrics


@dataclass
class ScoreSettings:
    stop_words: list[str] = field(default_factory=lambda: gopher.GOPHER_STOP_WORDS + gopher.CJK_STOP_WORDS)
    c4: c4.C4LineSettings = field(default_factory=c4.C4LineSettings)
    fineweb: fineweb.FineWebSettings = field(default_factory=fineweb.FineWebSettings)
    # Our one deliberate departure from datatrove's word splitting: Han/kana one token per character
    # (changes only texts containing CJK; False = datatrove's spaCy-English tokens everywhere).
    cjk_per_character: bool = True


def metric_columns(rules: list[UserRule]) -> list[str]:
    return (gopher_repetition.COLUMNS + gopher.COLUMNS + c4.COLUMNS + fineweb.COLUMNS
            + [r.column for r in rules])


def score_text(text: str, s: ScoreSettings, rules: list[UserRule]) -> tuple[str, dict[str, float | None]]:
    """(text after the C4 line modifier, every rule metric)."""
    original = DocView(text, s.cjk_per_character)
    metrics: dict[str, float | None] = {}
    metrics.update(gopher_repetition.gopher_repetition(original))
    metrics.update(gopher.gopher_quality(original, s.stop_words))
    c4_result = c4.c4_lines(text, s.c4, s.cjk_per_character)
    metrics.update(c4.c4_metrics(c4_result))
    modified = DocView(c4_result.text, s.cjk_per_character) if c4_result.text != text else original
    metrics.update(fineweb.fineweb_quality(modified, s.fineweb))
    metrics.update(user_metrics(text, rules))
    return c4_result.text, metrics


def score_batch(texts: pd.Series, s: ScoreSettings, rules: list[UserRule]) -> pd.DataFrame:
    """A frame with `text` (modified) and one float64 column per metric (NaN where n/a)."""
    columns = metric_columns(rules)
    out_texts = []
    values = np.full((len(texts), len(columns)), np.nan, dtype="float64")
    for i, text in enumerate(texts):
        new_text, metrics = score_text(text or "", s, rules)
        out_texts.append(new_text)
        for j, c in enumerate(columns):
            v = metrics[c]
            if v is not None:
                values[i, j] = v
    frame = pd.DataFrame(values, columns=columns, index=texts.index)
    frame.insert(0, "text", pd.Series(out_texts, index=texts.index, dtype=object))
    return frame
