"""C4 rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

Line-level rules remove lines (a text modifier); document-level rules (lorem ipsum, a curly
brace, fewer than 5 sentences) become annotation columns the `filter` stage thresholds.
Order and details follow datatrove's `C4QualityFilter`; lorem ipsum and curly braces are
looked for only in lines that survived the line rules, as there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.score import words as W
from pipeline.score.thresholds import Threshold

# C4: "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies".
POLICY_SUBSTRINGS = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                     "use cookies"]
# C4's terminal punctuation is . ? ! " ; the full-width ones are our addition for Chinese.
C4_END_PUNCTUATION = [".", "?", "!", '"']
CJK_END_PUNCTUATION = ["。", "！", "？", "”", "」"]
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")  # Wikipedia markers (datatrove)
# Latin sentences end in . ! ? before a space; Chinese ones end in 。！？ with no space after.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”」)]*(?:\s+|$)|[。！？]+[”」]*")


@dataclass
class C4LineSettings:
    """Line rules of the text modifier (applied at scoring time, because they change the text)."""
    remove_lines: bool = True  # C4 on; FineWeb keeps lines (filter_no_terminal_punct=False)
    require_terminal_punctuation: bool = True  # C4: keep lines ending in terminal punctuation
    end_punctuation: list[str] = field(default_factory=lambda: C4_END_PUNCTUATION + CJK_END_PUNCTUATION)
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


def count_sentences(line: str) -> int:
    """Terminal-punctuation-delimited sentences; a trailing fragment counts as one."""
    ends = len(_SENTENCE_END.findall(line))
    tail = _SENTENCE_END.split(line)[-1].strip() if line.strip() else ""
    return ends + (1 if tail else 0)


def keep_line(line: str, s: C4LineSettings) -> bool:
    """The C4 line rules: no giant word, terminal punctuation, >= 3 words, no javascript/policy."""
    ws = W.words(line)
    if any(len(w) > s.max_word_length for w in line.split()):
        return False
    if s.require_terminal_punctuation and (not line.endswith(tuple(s.end_punctuation)) or line.endswith("...")):
        return False
    if len(ws) < s.min_words_per_line:
        return False
    lower = line.lower()
    return "javascript" not in lower and not any(p in lower for p in POLICY_SUBSTRINGS)


def c4_lines(text: str, s: C4LineSettings) -> C4Result:
    kept: list[str] = []
    removed = sentences = 0
    lorem = curly = False
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if s.remove_citations:
            line = _CITATION.sub("", line).strip()
        if not keep_line(line, s):
            removed += 1
            continue
        lorem = lorem or "lorem ipsum" in line.lower()
        curly = curly or "{" in line
        sentences += count_sentences(line)
        kept.append(line)
    new_text = "\n".join(kept) if s.remove_lines else text
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
