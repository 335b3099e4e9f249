"""A threshold on one annotation column: the shared shape of every rule set's filter side.

Scorers write metric columns (`rule_*`); the `filter` stage turns each `Threshold` into a Spark
predicate, and `failed` evaluates the same thresholds in plain Python (tests, benchmarks), so
both sides agree by construction. A missing metric (None/NaN: the rule does not apply, e.g. mean
English word length of an all-Chinese text) never fails a threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    rule: str  # the reason recorded when a document is dropped
    column: str
    kind: str  # "min": value < limit fails; "max": value > limit fails
    limit: float
    langs: tuple[str, ...] = ()  # apply only to documents in these languages (`lang`); () = all

    def applies(self, lang: str | None) -> bool:
        return not self.langs or lang in self.langs

    def fails(self, value: float | None) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return value < self.limit if self.kind == "min" else value > self.limit


def failed(metrics: dict, thresholds: list[Threshold]) -> list[str]:
    """Names of the rules a document fails, in threshold order."""
    lang = metrics.get("lang")
    return [t.rule for t in thresholds
            if t.column in metrics and t.applies(lang) and t.fails(metrics[t.column])]
