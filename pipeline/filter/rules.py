"""Which thresholds the `filter` stage applies, in order, from its config and the columns present.

Order follows datatrove's FineWeb pipeline (Gopher repetition, Gopher quality, C4, FineWeb), then
user rules, the model quality score and the domain allow-list. A document's drop reason is the
first rule it fails; `_stats.json` also counts every rule's failures independently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.score import c4, fineweb, gopher, gopher_repetition, user_rules
from pipeline.score.thresholds import Threshold

RULE_SETS = ["gopher_repetition", "gopher", "c4", "fineweb", "user", "quality"]


@dataclass
class FilterConfig:
    rule_sets: list[str] = field(default_factory=lambda: list(RULE_SETS))  # which sets to apply
    gopher: gopher.GopherQualityThresholds = field(default_factory=gopher.GopherQualityThresholds)
    gopher_repetition: gopher_repetition.GopherRepetitionThresholds = field(
        default_factory=gopher_repetition.GopherRepetitionThresholds)
    c4: c4.C4Thresholds = field(default_factory=c4.C4Thresholds)
    fineweb: fineweb.FineWebThresholds = field(default_factory=fineweb.FineWebThresholds)
    user_rules: str = ""  # the score-rules YAML, for per-rule max_matches; "" = any match drops
    user_max_matches: dict[str, float] = field(default_factory=dict)  # per-rule override
    # 0.5 is the classifier's decision boundary; DCLM (Li et al. 2024) instead keeps the top ~10%.
    min_quality_score: float = 0.5
    # DCLM (Li et al. 2024) keeps a top fraction of the pool by fastText score (~10%) rather than an
    # absolute cut: scores of a classifier trained against this very web pool are only ranks.
    # > 0 replaces min_quality_score by the score quantile that keeps this fraction of judged docs.
    quality_keep_fraction: float = 0.0
    # The shipped reference set is English prose: scoring Chinese pages against it says nothing
    # about their quality, so the model threshold applies to these languages only ([] = all).
    quality_languages: list[str] = field(default_factory=lambda: ["en"])
    keep_domains: list[str] = field(default_factory=list)  # [] keeps every domain
    # The heuristic and model thresholds were made for web prose (Gopher, C4, FineWeb): applied to
    # code, LaTeX or books they drop nearly everything, so they judge these sources only ([] = all).
    rule_sources: list[str] = field(default_factory=lambda: ["web"])
    write_rejected: bool = True  # rejected docs with `reject_reason` in OUT/_rejected/


@dataclass
class FilterPlan:
    thresholds: list[Threshold]
    skipped: list[str]  # rule sets configured but without their columns in the input
    keep_domains: list[str]


def plan(cfg: FilterConfig, columns: list[str]) -> FilterPlan:
    unknown = sorted(set(cfg.rule_sets) - set(RULE_SETS))
    if unknown:
        from pipeline.errors import UsageError
        raise UsageError(f"filter.rule_sets: unknown {unknown}; known: {RULE_SETS}")
    have = set(columns)
    out: list[Threshold] = []
    skipped: list[str] = []
    for name in RULE_SETS:
        if name not in cfg.rule_sets:
            continue
        ts = _thresholds(name, cfg, columns)
        present = [t for t in ts if t.column in have]
        if not present and name != "user":
            skipped.append(name)
        out.extend(present)
    return FilterPlan(out, skipped, list(cfg.keep_domains) if "domain" in have else [])


def _thresholds(name: str, cfg: FilterConfig, columns: list[str]) -> list[Threshold]:
    if name == "gopher_repetition":
        return gopher_repetition.thresholds(cfg.gopher_repetition)
    if name == "gopher":
        return gopher.thresholds(cfg.gopher)
    if name == "c4":
        return c4.thresholds(cfg.c4)
    if name == "fineweb":
        return fineweb.thresholds(cfg.fineweb)
    if name == "quality":
        return [Threshold("quality_score", "quality_score", "min", cfg.min_quality_score,
                          tuple(cfg.quality_languages))]
    # user rules: every rule_user_* column present, limits from the YAML when given, else 0.
    declared = {r.column: r for r in user_rules.load_rules(cfg.user_rules)}
    out = []
    for col in columns:
        if col.startswith("rule_user_"):
            rule_name = col[len("rule_user_"):]
            limit = declared[col].max_matches if col in declared else 0.0
            out.append(Threshold(f"user_{rule_name}", col, "max", cfg.user_max_matches.get(rule_name, limit)))
    return out


def first_failure(row: dict, p: FilterPlan) -> str | None:
    """Plain-Python twin of the stage's Spark expression (tests and benchmarks)."""
    for t in p.thresholds:
        if t.applies(row.get("lang")) and t.fails(row.get(t.column)):
            return t.rule
    if p.keep_domains and row.get("domain") not in p.keep_domains:
        return "domain_not_kept"
    return None
