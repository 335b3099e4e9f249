"""FineWeb quality rules (Penedo et al. 2024, "The FineWeb Datasets"; datatrove FineWebQualityFilter).

Share of lines ending in punctuation, share of short lines, characters in duplicated lines,
and newlines per word (list-like pages). Definitions and defaults are datatrove's (0.10): lines
are the non-blank parts of `text.split("\n")`, unstripped (a line ending in ". " does not end in
punctuation); terminal punctuation is Unicode's Sentence_Terminal set; "words" are every
spaCy-English token, punctuation included. A text without a non-blank line gets a punctuation
ratio of 0, so the rule drops it, as datatrove drops it as "empty".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.score.english_affixes import SENTENCE_TERMINALS
from pipeline.score.gopher import DocView
from pipeline.score.gopher_repetition import duplicates
from pipeline.score.thresholds import Threshold

# datatrove's TERMINAL_PUNCTUATION: Unicode's Sentence_Terminal characters.
TERMINAL_PUNCTUATION = sorted(SENTENCE_TERMINALS)


@dataclass
class FineWebSettings:
    short_line_length: int = 30  # FineWeb: a line of <= 30 characters is "short"
    stop_chars: list[str] = field(default_factory=lambda: list(TERMINAL_PUNCTUATION))


@dataclass
class FineWebThresholds:
    min_line_punct_ratio: float = 0.12  # FineWeb: >= 12% of lines end in punctuation
    max_short_line_ratio: float = 0.67  # FineWeb: <= 67% of lines are short
    max_dup_line_char_ratio: float = 0.01  # FineWeb: <= 1% of characters in duplicated lines
    max_newlines_per_word: float = 0.3  # FineWeb: newline/word <= 0.3 (list-like pages)


def _lines(doc: DocView) -> list[str]:
    return [line for line in doc.text.split("\n") if line.strip()]


def line_punct_ratio(doc: DocView, stop_chars: list[str]) -> float | None:
    lines = _lines(doc)
    if not lines:
        return 0.0
    ends = tuple(stop_chars)
    return sum(1 for line in lines if line.endswith(ends)) / len(lines)


def short_line_ratio(doc: DocView, short_line_length: int) -> float | None:
    lines = _lines(doc)
    if not lines:
        return None
    return sum(1 for line in lines if len(line) <= short_line_length) / len(lines)


def dup_line_char_ratio(doc: DocView) -> float | None:
    chars = len(doc.text.replace("\n", ""))
    if not chars:
        return None
    return duplicates(_lines(doc))[1] / chars


def newlines_per_word(doc: DocView) -> float | None:
    if not doc.tokens:
        return None
    return doc.text.count("\n") / len(doc.tokens)


COLUMNS = ["rule_fineweb_line_punct_ratio", "rule_fineweb_short_line_ratio",
           "rule_fineweb_dup_line_char_ratio", "rule_fineweb_newlines_per_word"]


def fineweb_quality(doc: DocView, s: FineWebSettings) -> dict[str, float | None]:
    return dict(zip(COLUMNS, [line_punct_ratio(doc, s.stop_chars), short_line_ratio(doc, s.short_line_length),
                              dup_line_char_ratio(doc), newlines_per_word(doc)], strict=True))


def thresholds(t: FineWebThresholds) -> list[Threshold]:
    return [
        Threshold("fineweb_line_punct_ratio", "rule_fineweb_line_punct_ratio", "min", t.min_line_punct_ratio),
        Threshold("fineweb_short_line_ratio", "rule_fineweb_short_line_ratio", "max", t.max_short_line_ratio),
        Threshold("fineweb_dup_line_chars", "rule_fineweb_dup_line_char_ratio", "max", t.max_dup_line_char_ratio),
        Threshold("fineweb_newlines_per_word", "rule_fineweb_newlines_per_word", "max", t.max_newlines_per_word),
    ]
