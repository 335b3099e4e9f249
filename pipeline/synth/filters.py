"""Output filters for LLM-written records: each returns the reason a text is dropped, or None.

Reasons (counted per generator as `dropped_<reason>` in the synth stage's _stats.json and the report):
    unparseable      the output is not in the asked-for shape (JSON pair, "Question:" line...)
    too_short        fewer than `min_words` words
    too_long         more than `max_words` words (a run-on generation that hit max_tokens)
    wrong_language   not English (share of common English function words below a floor)
    refusal          "I'm sorry", "As an AI", "I cannot" ... (a refusal or meta-talk, not data)
    copy_of_source   most of the output's word 8-grams occur in the source (a copy, not a rewrite)
    near_duplicate   word 5-shingle Jaccard >= 0.7 with an output already kept in the same batch
    repetitive       more than `max_repeated_lines` of its lines (or sentences) are repeats (a looping model)
    checker_failure  an RL item whose answer its own checker rejects, or whose question gives it away
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9']+")
# The most frequent English function words: real English prose has ~35-50% of them; other languages
# and code have few. A cheap check that needs no model in the executors.
_EN_WORDS = ("the of and to a in is it that for was on are as with be by this at from or an which have has not "
             "but were their they can its one all his her he she you we i will there what when how who also more "
             "been than")
_EN = frozenset(_EN_WORDS.split())
_REFUSAL = re.compile(r"\b(i'?m sorry|i am sorry|as an ai|i cannot|i can'?t (help|assist|provide)|i'?m unable|"
                      r"i am unable|language model|i apologi[sz]e)\b", re.I)
_PREAMBLE = re.compile(r"^\s*(sure|certainly|of course|here is|here's)[^\n]{0,80}?:\s*\n", re.I)


@dataclass
class FilterConfig:
    min_words: int = 15
    max_words: int = 1500
    min_english_share: float = 0.15  # of non-number words; English prose ~0.4, terse notes ~0.25
    copy_ngram: int = 8
    max_copy_share: float = 0.8  # WRAP rewrites keep facts, not sentences: 80% of 8-grams copied = a copy
    max_repeated_lines: float = 0.3  # Gopher's duplicate-line rule (Rae et al. 2021: 0.3)
    dup_shingle: int = 5
    max_dup_jaccard: float = 0.7


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def strip_preamble(text: str) -> str:
    """'Sure! Here is the rewritten text:' is chat boilerplate, not data: cut it, keep the rest."""
    return _PREAMBLE.sub("", text, count=1).strip()


def _grams(ws: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def text_reason(text: str, cfg: FilterConfig, source: str | None = None, min_words: int | None = None) -> str | None:
    ws = words(text)
    if len(ws) < (cfg.min_words if min_words is None else min_words):
        return "too_short"
    if len(ws) > cfg.max_words:
        return "too_long"
    units = [u.strip().lower() for u in re.split(r"\n+|(?<=[.!?])\s+", text) if u.strip()]
    if len(units) >= 4 and 1 - len(set(units)) / len(units) > cfg.max_repeated_lines:
        return "repetitive"
    if _REFUSAL.search(text):
        return "refusal"
    alpha = [w for w in ws if not w.isdigit()]
    if len(alpha) >= 8 and sum(w in _EN for w in alpha) / len(alpha) < cfg.min_english_share:
        return "wrong_language"
    if source:
        grams = _grams(ws, cfg.copy_ngram)
        if grams and len(grams & _grams(words(source), cfg.copy_ngram)) / len(grams) >= cfg.max_copy_share:
            return "copy_of_source"
    return None


class NearDuplicates:
    """Keeps the shingle sets of accepted outputs; `seen(text)` says whether one is a near-copy of them."""

    def __init__(self, cfg: FilterConfig):
        self.cfg = cfg
        self._kept: list[set[tuple[str, ...]]] = []

    def seen(self, text: str) -> bool:
        sh = _grams(words(text), self.cfg.dup_shingle)
        if not sh:
            return False
        for other in self._kept:
            if len(sh & other) / len(sh | other) >= self.cfg.max_dup_jaccard:
                return True
        self._kept.append(sh)
        return False
