"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", MassiveText, appendix A.1).

Each rule is a pure function of a `DocView`; definitions and defaults are those of datatrove's
`GopherQualityFilter` (0.10), the implementation FineWeb used:

- words are spaCy-English tokens (`english_tokens`): "end." is the two tokens "end" and ".";
- the word count and the mean word length ignore tokens made only of punctuation
  (`PUNCTUATION_SET`), while the '#' and ellipsis ratios, the alphabetic-word share and the stop
  words look at every token;
- stop words are matched case-sensitively ("The" is not "the"), as there.

Our one deliberate difference, on by default and only for text that contains CJK characters:
`cjk_per_character` splits Han/kana runs into one token per character (`pipeline.score.words`
says why) and leaves them out of the mean word length; the spaCy English tokenizer datatrove
would apply keeps a whole Chinese clause as one "word". `cjk_per_character=False` restores the
reference on every text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pipeline.score import words as W
from pipeline.score.english_tokens import english_words
from pipeline.score.thresholds import Threshold

# Gopher's "at least two of: the, be, to, of, and, that, have, with" (Rae et al. 2021, A.1.1).
GOPHER_STOP_WORDS = ["the", "be", "to", "of", "and", "that", "have", "with"]
# Our extension for the Chinese seed: the most frequent function characters (Gopher is English-only).
CJK_STOP_WORDS = ["的", "了", "是", "在", "和", "有", "不", "这"]

# datatrove's PUNCTUATION plus Unicode's sentence terminals: a token made only of these is a
# "symbol", not a word. The list is datatrove's, quirks included (the full-width digit "１").
_PUNCTUATION_CHARS = ("!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
                      + "".join(chr(c) for c in [*range(0, 9), *range(11, 32), *range(127, 160)]))


def _punctuation_set() -> frozenset[str]:
    from pipeline.score.english_affixes import SENTENCE_TERMINALS

    return frozenset(_PUNCTUATION_CHARS) | SENTENCE_TERMINALS


PUNCTUATION_SET = _punctuation_set()


def is_symbol(token: str) -> bool:
    return all(c in PUNCTUATION_SET for c in token)


class DocView:
    """Lazily computed views of one text, shared by all rules that need them."""

    def __init__(self, text: str, cjk_per_character: bool = True):
        self.text = text
        self.cjk_per_character = cjk_per_character

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def cjk_fraction(self) -> float:
        return W.cjk_fraction(self.text)

    @cached_property
    def tokens(self) -> list[str]:
        """datatrove's `split_into_words(text, "en")`, CJK runs per character when switched on."""
        toks = english_words(self.text)
        if self.cjk_per_character and self.cjk_fraction > 0:
            toks = [piece for t in toks for piece in W.tokens(t)]
        return toks

    @cached_property
    def words(self) -> list[str]:
        """Tokens that are not only punctuation (datatrove's `non_symbol_words`)."""
        return [t for t in self.tokens if not is_symbol(t)]

    @cached_property
    def token_ids(self) -> list[int]:
        """Tokens as small ints: n-gram tuples of ints hash faster than joined strings."""
        vocab: dict[str, int] = {}
        return [vocab.setdefault(w, len(vocab)) for w in self.tokens]

    @cached_property
    def token_lengths(self) -> list[int]:
        return [len(w) for w in self.tokens]


@dataclass
class GopherQualityThresholds:
    min_words: float = 50  # Gopher: 50 <= words <= 100,000
    max_words: float = 100_000
    min_mean_word_length: float = 3  # Gopher: mean word length 3..10 characters
    max_mean_word_length: float = 10
    max_hash_word_ratio: float = 0.1  # Gopher: '#' per word <= 0.1
    max_ellipsis_word_ratio: float = 0.1  # Gopher: ellipses ('...', '…') per word <= 0.1
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
    """Over non-symbol words.

    With `cjk_per_character`, CJK characters are left out (one character each by construction),
    and a mostly-CJK text has no mean: its few Latin tokens (a byline, a date split at its
    hyphens) say nothing about the English 3..10 band.
    """
    if doc.cjk_per_character and doc.cjk_fraction >= 0.5:
        return None
    ws = [w for w in doc.words if not W.is_cjk(w[0])] if doc.cjk_per_character else doc.words
    return sum(len(w) for w in ws) / len(ws) if ws else None


def hash_word_ratio(doc: DocView) -> float | None:
    return doc.text.count("#") / len(doc.tokens) if doc.tokens else None


def ellipsis_word_ratio(doc: DocView) -> float | None:
    if not doc.tokens:
        return None
    return (doc.text.count("...") + doc.text.count("…")) / len(doc.tokens)


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
    """Distinct stop words present as tokens, case-sensitive (Gopher counts presence, not occurrences)."""
    return float(len(set(stop_words).intersection(doc.tokens)))


COLUMNS = ["rule_gopher_words", "rule_gopher_mean_word_length", "rule_gopher_hash_word_ratio",
           "rule_gopher_ellipsis_word_ratio", "rule_gopher_bullet_lines_ratio",
           "rule_gopher_ellipsis_lines_ratio", "rule_gopher_alpha_words_ratio", "rule_gopher_stop_words"]


def gopher_quality(doc: DocView, stop_words: list[str]) -> dict[str, float | None]:
    return dict(zip(COLUMNS, [word_count(doc), mean_word_length(doc), hash_word_ratio(doc),
                              ellipsis_word_ratio(doc), bullet_lines_ratio(doc), ellipsis_lines_ratio(doc),
                              alpha_words_ratio(doc), stop_word_count(doc, stop_words)], strict=True))


def thresholds(t: GopherQualityThresholds) -> list[Threshold]:
    return [
        Threshold("gopher_min_words", "rule_gopher_words", "min", t.min_words),
        Threshold("gopher_max_words", "rule_gopher_words", "max", t.max_words),
        Threshold("gopher_min_mean_word_length", "rule_gopher_mean_word_length", "min", t.min_mean_word_length),
        Threshold("gopher_max_mean_word_length", "rule_gopher_mean_word_length", "max", t.max_mean_word_length),
        Threshold("gopher_hash_word_ratio", "rule_gopher_hash_word_ratio", "max", t.max_hash_word_ratio),
        Threshold("gopher_ellipsis_word_ratio", "rule_gopher_ellipsis_word_ratio", "max",
                  t.max_ellipsis_word_ratio),
        Threshold("gopher_bullet_lines", "rule_gopher_bullet_lines_ratio", "max", t.max_bullet_lines_ratio),
        Threshold("gopher_ellipsis_lines", "rule_gopher_ellipsis_lines_ratio", "max", t.max_ellipsis_lines_ratio),
        Threshold("gopher_alpha_words", "rule_gopher_alpha_words_ratio", "min", t.min_alpha_words_ratio),
        Threshold("gopher_stop_words", "rule_gopher_stop_words", "min", t.min_stop_words,
                  tuple(t.stop_word_languages)),
    ]
