"""Keyword/regex domain rules: weighted hits per 100 words; the top domain with its firing rule.

Weak supervision in the style of Snorkel's labelling functions, kept to one readable YAML
(pipeline/resources/domain_keywords.yaml): the rules label documents directly, and their
confident labels train the fastText domain classifier, which generalises past the keyword list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.errors import UsageError
from pipeline.score.words import CJK_RANGES, words

KEYWORDS = str(Path(__file__).resolve().parents[1] / "resources" / "domain_keywords.yaml")
_HAS_CJK = re.compile(f"[{CJK_RANGES}]")


@dataclass(frozen=True)
class DomainRule:
    domain: str
    name: str  # what fired, recorded in `domain_rule` ("keyword:recipe", "pattern:\\bpeer...")
    pattern: re.Pattern
    weight: float


@dataclass(frozen=True)
class DomainRules:
    rules: tuple[DomainRule, ...]
    domains: tuple[str, ...]
    min_score: float = 1.0
    min_margin: float = 0.5


@dataclass(frozen=True)
class DomainLabel:
    domain: str | None  # None: no domain reached min_score with a clear margin
    score: float  # the winning domain's score (weighted hits per 100 words)
    rule: str | None  # the strongest rule of the winning domain


def _keyword_pattern(word: str) -> re.Pattern:
    # Chinese has no word boundaries: match CJK keywords as substrings, others as whole words.
    if _HAS_CJK.search(word):
        return re.compile(re.escape(word))
    return re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)


def parse_rules(data: dict, where: str = "domain rules") -> DomainRules:
    domains = (data or {}).get("domains")
    if not isinstance(domains, dict) or not domains:
        raise UsageError(f"{where}: needs a 'domains' mapping")
    rules = []
    for domain, spec in domains.items():
        for word, weight in ((spec or {}).get("keywords") or {}).items():
            rules.append(DomainRule(str(domain), f"keyword:{word}", _keyword_pattern(str(word)), float(weight)))
        for pattern, weight in ((spec or {}).get("patterns") or {}).items():
            try:
                compiled = re.compile(str(pattern), re.IGNORECASE)
            except re.error as e:
                raise UsageError(f"{where}: bad pattern {pattern!r} in domain {domain}: {e}") from e
            rules.append(DomainRule(str(domain), f"pattern:{pattern}", compiled, float(weight)))
    return DomainRules(tuple(rules), tuple(str(d) for d in domains), float(data.get("min_score", 1.0)),
                       float(data.get("min_margin", 0.5)))


def load_rules(path: str = KEYWORDS) -> DomainRules:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"domain keyword file not found: {path}")
    return parse_rules(yaml.safe_load(p.read_text(encoding="utf-8")), str(p))


def domain_scores(text: str, rules: DomainRules) -> tuple[dict[str, float], dict[str, str]]:
    """Per-domain score (weighted hits per 100 words) and each domain's strongest rule."""
    n_words = max(len(words(text)), 1)
    scores = dict.fromkeys(rules.domains, 0.0)
    best: dict[str, tuple[float, str]] = {}
    for r in rules.rules:
        hits = len(r.pattern.findall(text))
        if hits:
            contribution = hits * r.weight
            scores[r.domain] += contribution
            if contribution > best.get(r.domain, (0.0, ""))[0]:
                best[r.domain] = (contribution, r.name)
    return {d: 100.0 * s / n_words for d, s in scores.items()}, {d: b[1] for d, b in best.items()}


def classify(text: str, rules: DomainRules) -> DomainLabel:
    scores, fired = domain_scores(text, rules)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    top, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < rules.min_score or score - runner_up < rules.min_margin:
        return DomainLabel(None, score, fired.get(top))
    return DomainLabel(top, score, fired.get(top))
