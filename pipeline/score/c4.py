"""C4 rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

Line-level rules remove lines (a text modifier); document-level rules (lorem ipsum, a curly
brace, fewer than 5 sentences) become annotation columns the `filter` stage thresholds.
Order and details follow datatrove's `C4QualityFilter` (0.10): a line's words are its
whitespace-separated parts, counted (and checked for length) before citations are removed;
"lorem ipsum" and "{" are looked for in the lines that passed the punctuation and length rules,
lorem ipsum before the javascript rule and the brace after it, as there; sentences are counted
by spaCy's sentencizer over spaCy-English tokens (`english_tokens.sentence_count`).

Our deliberate difference, with `cjk_per_character` (the default): lines may also end in the
full-width 。！？”」 of Chinese (C4 is English-only and would drop every Chinese line), and CJK
characters count as one word each; `cjk_per_character=False` restores the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.score import words as W
from pipeline.score.english_tokens import sentence_count
from pipeline.score.thresholds import Threshold

# C4: "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies".
POLICY_SUBSTRINGS = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                     "use cookies"]
# C4's terminal punctuation as datatrove has it (. ? ! " '); the full-width ones are our addition.
C4_END_PUNCTUATION = [".", "?", "!", '"', "'"]
CJK_END_PUNCTUATION = ["。", "！", "？", "”", "」"]
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")  # Wikipedia markers (datatrove)


@dataclass
class C4LineSettings:
    """Line rules of the text modifier (applied at scoring time, because they change the text)."""
    remove_lines: bool = True  # C4 on; FineWeb keeps lines (filter_no_terminal_punct=False)
    require_terminal_punctuation: bool = True  # C4: keep lines ending in terminal punctuation
    end_punctuation: list[str] = field(default_factory=lambda: list(C4_END_PUNCTUATION))
    min_words_per_line: int = 3  # C4: "at least 3 words"
    max_word_length: int = 1000  # C4: drop lines with a word over 1000 characters
    remove_citations: bool = True  # datatrove: strip [1], [edit], [citation needed]


@dataclass
class C4Thresholds:
    min_sentences: float = 5  # C4: "at least five sentences"
    drop_lorem_ipsum: bool = True  # C4: drop any page containing "lorem ipsum"
    drop_curly_brace: bool = True  # C4: drop any page containing "{" (code, not prose)


@dataclass
class C4Result:
    text: str
    lines_removed: int
    sentences: int
    lorem_ipsum: bool
    curly_brace: bool


def _line_words(line: str, cjk_per_character: bool) -> list[str]:
    """C4's words: whitespace-separated parts (CJK characters one each, CJK punctuation none, when on)."""
    if not cjk_per_character:
        return line.split()
    return [t for t in W.tokens(line) if not (W.is_cjk(t[0]) and W.is_punctuation_token(t))]


def keep_line(line: str, words: list[str], s: C4LineSettings, ends: tuple[str, ...]) -> bool:
    """The C4 line rules but lorem ipsum and braces (document rules, see `c4_lines`)."""
    if s.require_terminal_punctuation and (not line.endswith(ends) or line.endswith("...")):
        return False
    return len(words) >= s.min_words_per_line


def c4_lines(text: str, s: C4LineSettings, cjk_per_character: bool = True) -> C4Result:
    ends = tuple(s.end_punctuation) + (tuple(CJK_END_PUNCTUATION) if cjk_per_character else ())
    kept: list[str] = []
    removed = sentences = 0
    lorem = curly = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:  # never kept; not counted as a removed line
            continue
        words = _line_words(line, cjk_per_character)
        if any(len(w) > s.max_word_length for w in line.split()):
            removed += 1
            continue
        if s.remove_citations:
            line = _CITATION.sub("", line)
        if not keep_line(line, words, s, ends):
            removed += 1
            continue
        lower = line.lower()
        lorem = lorem or "lorem ipsum" in lower
        if "javascript" in lower:
            removed += 1
            continue
        curly = curly or "{" in line
        if any(p in lower for p in POLICY_SUBSTRINGS):
            removed += 1
            continue
        sentences += sentence_count(line, split_cjk=cjk_per_character)
        kept.append(line)
    new_text = "\n".join(kept).strip() if s.remove_lines else text
    return C4Result(new_text, removed, sentences, lorem, curly)


COLUMNS = ["rule_c4_lines_removed", "rule_c4_sentences", "rule_c4_lorem_ipsum", "rule_c4_curly_brace"]


def c4_metrics(r: C4Result) -> dict[str, float]:
    return dict(zip(COLUMNS, [float(r.lines_removed), float(r.sentences), float(r.lorem_ipsum),
                              float(r.curly_brace)], strict=True))


def thresholds(t: C4Thresholds) -> list[Threshold]:
    out = [Threshold("c4_min_sentences", "rule_c4_sentences", "min", t.min_sentences)]
    if t.drop_lorem_ipsum:
        out.append(Threshold("c4_lorem_ipsum", "rule_c4_lorem_ipsum", "max", 0.0))
    if t.drop_curly_brace:
        out.append(Threshold("c4_curly_brace", "rule_c4_curly_brace", "max", 0.0))
    return out
