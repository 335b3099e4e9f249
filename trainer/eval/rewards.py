"""Verifiable rewards for GRPO: the synth stage's answer checkers, re-implemented for trainer/.

trainer/ may not import pipeline/, so these follow the rules written out in the docstring of
`pipeline/synth/checkers.py` (tests/trainer/test_rewards.py holds both to the same table of cases):

- The final answer of a completion is the text after the last `Answer:` (case-insensitive, also the
  full-width colon), else the content of the last `\\boxed{...}`, else the whole completion; stripped
  of surrounding whitespace, a trailing `.` and surrounding quotes/backticks.
- `arithmetic`: the last number in the final answer (commas between digit groups removed) equals the
  expected number within an absolute tolerance (default 1e-6).
- `unit_conversion`: the last number is within a relative tolerance (default 0.01) of the expected.
- `fact_extraction`: the normalised final answer equals the normalised expected answer or contains it
  as a whole-word phrase (NFKC, lowercase, collapsed whitespace, punctuation dropped except in numbers).
- `exact_match`: the final answer equals the expected answer stripped of whitespace (case-sensitive).

A reward is 1.0 when the record's checker accepts the completion, else 0.0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_ANSWER = re.compile(r"answer\s*[:：]", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
# "3.5" and "1,000" keep their punctuation; any other punctuation becomes a space.
_PUNCT = re.compile(r"(?<!\d)[^\w\s]|[^\w\s](?!\d)")

DEFAULT_TOLERANCE = {"arithmetic": 1e-6, "unit_conversion": 0.01, "fact_extraction": 0.0, "exact_match": 0.0}


def final_answer(completion: str) -> str:
    text = completion or ""
    marks = list(_ANSWER.finditer(text))
    if marks:
        text = text[marks[-1].end():]
    elif boxed := _BOXED.findall(text):
        text = boxed[-1]
    return text.strip().rstrip(".").strip().strip("`\"'").strip()


def last_number(text: str) -> float | None:
    found = _NUMBER.findall(text or "")
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(_PUNCT.sub(" ", text).split())


def _tolerance(checker: str, tolerance: float | None) -> float:
    return DEFAULT_TOLERANCE[checker] if tolerance is None else float(tolerance)


def arithmetic(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = last_number(final_answer(completion)), last_number(str(answer))
    return got is not None and want is not None and abs(got - want) <= _tolerance("arithmetic", tolerance)


def unit_conversion(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = last_number(final_answer(completion)), last_number(str(answer))
    if got is None or want is None:
        return False
    return math.isclose(got, want, rel_tol=_tolerance("unit_conversion", tolerance), abs_tol=1e-9)


def fact_extraction(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = normalize(final_answer(completion)), normalize(str(answer))
    if not got or not want:
        return False
    return got == want or re.search(rf"(?<!\w){re.escape(want)}(?!\w)", got) is not None


def exact_match(completion: str, answer: str, tolerance: float | None = None) -> bool:
    return final_answer(completion) == str(answer).strip()


CHECKERS: dict[str, Callable[[str, str, float | None], bool]] = {
    "arithmetic": arithmetic,
    "unit_conversion": unit_conversion,
    "fact_extraction": fact_extraction,
    "exact_match": exact_match,
}


def check(checker: str, completion: str, answer: str, tolerance: float | None = None) -> bool:
    if checker not in CHECKERS:
        raise ValueError(f"unknown checker {checker!r}; known: {', '.join(sorted(CHECKERS))}")
    return CHECKERS[checker](completion, answer, tolerance)


def reward(record: Mapping[str, Any], completion: str) -> float:
    """1.0 when the record's checker accepts `completion`, else 0.0 (an RL record of rl.jsonl)."""
    return float(check(record["checker"], completion, record["answer"], record.get("tolerance")))
