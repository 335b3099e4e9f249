"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", MassiveText, appendix A.1).

Each rule is a pure function of a `DocView`; defaults are the paper's values as implemented by
datatrove's `GopherQualityFilter`. Word counts use `pipeline.score.words` (CJK per character).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pipeline.score import words as W
from pipeline.score.thresholds import Threshold

# Gopher's "at least two of: the, be, to, of, and, that, have, with" (Rae et al. 2021, A.1.1).
GOPHER_STOP_WORDS = ["the", "be", "to", "of", "and", "that", "have", "with"]
# Our extension for the Chinese seed: the most frequent function characters (Gopher is English-only).
CJK_STOP_WORDS = ["的", "了", "是", "在", "和", "有", "不", "这"]


class DocView:
    """Lazily computed views of one text, shared by all rules that need them."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def tokens(self) -> list[str]:
        return W.tokens(self.text)

    @cached_property
    def words(self) -> list[str]:
        return [t for t in self.tokens if W.is_word(t)]

    @cached_property
    def word_ids(self) -> list[int]:
        """Words as small ints: n-gram tuples of ints hash faster than joined strings."""
        vocab: dict[str, int] = {}
        return [vocab.setdefault(w, len(vocab)) for w in self.words]

    @cached_property
    def word_lengths(self) -> list[int]:
        return [len(w) for w in self.words]


@dataclass
class GopherQualityThresholds:
    min_words: float = 50  # Gopher: 50 <= words <= 100,000
    max_words: float = 100_000
    min_mean_word_length: float = 3  # Gopher: mean word length 3..10 characters
    max_mean_word_length: float = 10
    max_symbol_word_ratio: float = 0.1  # Gopher: '#' and ellipses per word <= 0.1
    max_bullet_lines_ratio: float = 0.9  # Gopher: <= 90% of lines start with a bullet
    max_ellipsis_lines_ratio: float = 0.3  # Gopher: <= 30% of lines end with an ellipsis
    min_alpha_words_ratio: float = 0.8  # Gopher: >= 80% of words contain an alphabetic character
    min_stop_words: float = 2  # Gopher: at least 2 stop words (the list is a scoring setting)
    # The stop-word list covers English (Gopher's) and Chinese: counting them in French or German
    # text says nothing, so the rule judges these languages only ([] = every document).
    stop_word_languages: list[str] = field(default_factory=lambda: ["en", "zh"])


def word_count(doc: DocView) -> float:
    return float(len(doc.words))


def mean_word_length(doc: DocView) -> float | None:
    """Over non-CJK words: a CJK "word" is one character by construction, so length says nothing."""
    lengths = [len(w) for w in doc.words if not W.is_cjk(w[0])]
    return sum(lengths) / len(lengths) if lengths else None


def symbol_word_ratio(doc: DocView) -> float | None:
    if not doc.words:
        return None
    symbols = doc.text.count("#") + doc.text.count("...") + doc.text.count("…")
    return symbols / len(doc.words)


def bullet_lines_ratio(doc: DocView) -> float | None:
    if not doc.lines:
        return None
    bullets = sum(1 for line in doc.lines if line.lstrip().startswith(("•", "-")))  # datatrove's bullets
    return bullets / len(doc.lines)


def ellipsis_lines_ratio(doc: DocView) -> float | None:
    if not doc.lines:
        return None
    return sum(1 for line in doc.lines if line.rstrip().endswith(("...", "…"))) / len(doc.lines)


def alpha_words_ratio(doc: DocView) -> float | None:
    """Share of tokens (punctuation included, as in datatrove) holding an alphabetic character."""
    if not doc.tokens:
        return None
    return sum(1 for t in doc.tokens if any(c.isalpha() for c in t)) / len(doc.tokens)


def stop_word_count(doc: DocView, stop_words: list[str]) -> float:
    """Distinct stop words present (Gopher counts presence, not occurrences)."""
    present = {w.lower() for w in doc.words} & set(stop_words)
    return float(len(present))


COLUMNS = ["rule_gopher_words", "rule_gopher_mean_word_length", "rule_gopher_symbol_word_ratio",
           "rule_gopher_bullet_lines_ratio", "rule_gopher_ellipsis_lines_ratio",
           "rule_gopher_alpha_words_ratio", "rule_gopher_stop_words"]


def gopher_quality(doc: DocView, stop_words: list[str]) -> dict[str, float | None]:
    return dict(zip(COLUMNS, [word_count(doc), mean_word_length(doc), symbol_word_ratio(doc),
                              bullet_lines_ratio(doc), ellipsis_lines_ratio(doc),
                              alpha_words_ratio(doc), stop_word_count(doc, stop_words)], strict=True))


def thresholds(t: GopherQualityThresholds) -> list[Threshold]:
    return [
        Threshold("gopher_min_words", "rule_gopher_words", "min", t.min_words),
        Threshold("gopher_max_words", "rule_gopher_words", "max", t.max_words),
        Threshold("gopher_min_mean_word_length", "rule_gopher_mean_word_length", "min", t.min_mean_word_length),
        Threshold("gopher_max_mean_word_length", "rule_gopher_mean_word_length", "max", t.max_mean_word_length),
        Threshold("gopher_symbol_word_ratio", "rule_gopher_symbol_word_ratio", "max", t.max_symbol_word_ratio),
        Threshold("gopher_bullet_lines", "rule_gopher_bullet_lines_ratio", "max", t.max_bullet_lines_ratio),
        Threshold("gopher_ellipsis_lines", "rule_gopher_ellipsis_lines_ratio", "max", t.max_ellipsis_lines_ratio),
        Threshold("gopher_alpha_words", "rule_gopher_alpha_words_ratio", "min", t.min_alpha_words_ratio),
        Threshold("gopher_stop_words", "rule_gopher_stop_words", "min", t.min_stop_words,
                  tuple(t.stop_word_languages)),
    ]
