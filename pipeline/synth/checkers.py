"""Verifiable-answer checkers for RL items (GRPO rewards). Standard library only.

Every RL record (see `pipeline.synth.records`) stores `checker`, `answer` and `tolerance`;
`check(checker, completion, answer, tolerance)` says whether a model completion is right.
The rules, so another package can re-implement them without importing `pipeline`:

- The *final answer* of a completion is the text after the last `Answer:` (case-insensitive),
  else the content of the last `\\boxed{...}`, else the whole completion; it is stripped of
  surrounding whitespace, trailing `.` and surrounding quotes/backticks.
- `arithmetic`: the last number in the final answer (commas between digits removed) equals the
  expected number within `tolerance` (absolute; default 1e-6).
- `unit_conversion`: the last number in the final answer is within relative `tolerance`
  (default 0.01) of the expected number; a unit after the number is allowed and ignored.
- `fact_extraction`: normalised final answer equals the normalised expected answer, or contains
  it as a whole-word phrase. Normalisation: NFKC, lowercase, collapse whitespace, drop
  punctuation except inside numbers.
- `exact_match`: final answer equals the expected answer after stripping whitespace (case-sensitive:
  needle/key-value values are random tokens).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_ANSWER = re.compile(r"answer\s*[:：]", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")

DEFAULT_TOLERANCE = {"arithmetic": 1e-6, "unit_conversion": 0.01, "fact_extraction": 0.0, "exact_match": 0.0}


def final_answer(completion: str) -> str:
    """The part of a completion that holds the answer (rules in the module docstring)."""
    text = completion or ""
    marks = list(_ANSWER.finditer(text))
    if marks:
        text = text[marks[-1].end():]
    else:
        boxed = _BOXED.findall(text)
        if boxed:
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


def normalize_answer(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"(?<!\d)[^\w\s]|[^\w\s](?!\d)", " ", text)  # keep "3.5" and "1,000"
    return " ".join(text.split())


def arithmetic(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = last_number(final_answer(completion)), last_number(str(answer))
    if got is None or want is None:
        return False
    tol = DEFAULT_TOLERANCE["arithmetic"] if tolerance is None else tolerance
    return abs(got - want) <= tol


def unit_conversion(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = last_number(final_answer(completion)), last_number(str(answer))
    if got is None or want is None:
        return False
    tol = DEFAULT_TOLERANCE["unit_conversion"] if tolerance is None else tolerance
    return math.isclose(got, want, rel_tol=tol, abs_tol=1e-9)


def fact_extraction(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = normalize_answer(final_answer(completion)), normalize_answer(str(answer))
    if not want or not got:
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
    """True when `completion` answers correctly under the named checker."""
    try:
        fn = CHECKERS[checker]
    except KeyError:
        raise ValueError(f"unknown checker {checker!r}; known: {', '.join(sorted(CHECKERS))}") from None
    return fn(completion, answer, tolerance)


def reward(record: dict, completion: str) -> float:
    """GRPO reward of one completion for one RL record: 1.0 right, 0.0 wrong."""
    return float(check(record["checker"], completion, record["answer"], record.get("tolerance")))
