"""Text builders for threshold tests: exact word counts and exact lengths without accidental repeats."""

from __future__ import annotations

import itertools
import string


def unique_words(n: int, length: int = 4) -> list[str]:
    """n distinct lowercase words of exactly `length` letters (never a stop word)."""
    letters = string.ascii_lowercase[1:]  # no 'a': avoids 'a'-initial stop-word look-alikes
    return ["".join(p) for p in itertools.islice(itertools.product(letters, repeat=length), n)]


def pad_to(parts: list[str], total: int) -> str:
    """Join `parts` with unique filler words appended so that len(result) == total exactly."""
    text = " ".join(parts)
    fillers = iter(unique_words(10_000, 4)[::-1])
    while total - len(text) > 6:
        text += " z" + next(fillers)
    rest = total - len(text)
    if rest > 0:
        text += " " + "q" * (rest - 1) if rest > 1 else "."
    assert len(text) == total, (len(text), total)
    return text
