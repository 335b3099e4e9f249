"""Drop documents by thresholds on annotation columns; record each drop's reason and per-rule counts.

Thresholds (defaults = Gopher, C4, FineWeb published values) come from config; rejected documents
land in OUT/_rejected/ with `reject_reason` = the first rule they fail.
"""

import sys

from pipeline.filter.rules import FilterConfig
from pipeline.stage import Stage, StageContext, StageResult


def _fails(t):
    from pyspark.sql import functions as F

    col = F.col(t.column).cast("double")
    cmp = col < F.lit(t.limit) if t.kind == "min" else col > F.lit(t.limit)
    cond = col.isNotNull() & ~F.isnan(col) & cmp
    return cond & F.coalesce(F.col("lang").isin(list(t.langs)), F.lit(False)) if t.langs else cond


def _quality_cut(cfg: FilterConfig, docs) -> tuple[FilterConfig, dict | None]:
    """With quality_keep_fraction, the score cut is the quantile keeping that share of judged docs."""
    import dataclasses

    from pyspark.sql import functions as F

    if not 0 < cfg.quality_keep_fraction < 1 or "quality_score" not in docs.columns:
        return cfg, None
    pool = docs.filter(F.col("quality_score").isNotNull())
    if cfg.rule_sources:
        pool = pool.filter(F.col("source").isin(list(cfg.rule_sources)))
    if cfg.quality_languages:
        pool = pool.filter(F.col("lang").isin(list(cfg.quality_languages)))
    judged = pool.count()
    if judged == 0:
        return cfg, {"keep_fraction": cfg.quality_keep_fraction, "judged": 0, "min_quality_score": None}
    # The k-th largest score: a probability between ranks so the quantile lands on it exactly
    # (relative error 1e-3 keeps this one pass at scale).
    keep = max(1, round(cfg.quality_keep_fraction * judged))
    probability = min(1.0, 1.0 - keep / judged + 0.5 / judged)
    cut = float(pool.approxQuantile("quality_score", [probability], 0.001)[0])
    return dataclasses.replace(cfg, min_quality_score=cut), {
        "keep_fraction": cfg.quality_keep_fraction, "judged": judged, "min_quality_score": cut}


class Filter(Stage):
    name = "filter"
    config_class = FilterConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.filter.rules import plan

        cfg: FilterConfig = ctx.settings
        docs = ctx.read_documents()
        cfg, quality_cut = _quality_cut(cfg, docs)
        p = plan(cfg, docs.columns)
        reason = F.lit(None).cast("string")
        judged = F.col("source").isin(list(cfg.rule_sources)) if cfg.rule_sources else F.lit(True)
        checks = [(t.rule, judged & _fails(t)) for t in p.thresholds]
        if p.keep_domains:
            checks.append(("domain_not_kept", ~F.coalesce(F.col("domain").isin(p.keep_domains), F.lit(False))))
        for rule, cond in reversed(checks):
            reason = F.when(cond, F.lit(rule)).otherwise(reason)
        marked = docs.withColumn("reject_reason", reason).cache()
        failed_row = marked.agg(F.count(F.lit(1)).alias("_n"),
                                *[F.sum(F.when(c, 1).otherwise(0)).alias(r) for r, c in checks]).first()
        dropped = {r["reject_reason"]: int(r["count"]) for r in
                   marked.filter(F.col("reject_reason").isNotNull()).groupBy("reject_reason").count().collect()}
        kept = marked.filter(F.col("reject_reason").isNull()).drop("reject_reason")
        rejected = marked.filter(F.col("reject_reason").isNotNull())
        stats = {
            "dropped": {r: dropped.get(r, 0) for r, _ in checks},  # by first failing rule
            "failed": {r: int(failed_row[r] or 0) for r, _ in checks},  # each rule on its own
            "dropped_total": sum(dropped.values()),
            "skipped_rule_sets": p.skipped,
            "rule_sources": list(cfg.rule_sources),
            "quality_cut": quality_cut,
            "thresholds": {t.rule: [t.column, t.kind, t.limit] for t in p.thresholds},
        }
        side = {"rejected": rejected} if cfg.write_rejected else {}
        return StageResult(documents=kept, stats=stats, side_outputs=side, rows_in=int(failed_row["_n"]))


STAGE = Filter()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
