"""Score documents with the Gopher, Gopher repetition, C4, FineWeb and user regex rules (rule_* columns).

Annotation only: every metric becomes a float `rule_*` column; the C4 line rules also rewrite
`text` (a text modifier, as in C4 and datatrove). Dropping is the `filter` stage's job.
"""

import sys
from dataclasses import dataclass, field

from pipeline.score.c4 import C4LineSettings
from pipeline.score.document import ScoreSettings
from pipeline.score.fineweb import FineWebSettings
from pipeline.score.gopher import CJK_STOP_WORDS, GOPHER_STOP_WORDS
from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class ScoreRulesConfig:
    # Gopher's stop words (Rae et al. 2021) plus our Chinese function characters.
    stop_words: list[str] = field(default_factory=lambda: GOPHER_STOP_WORDS + CJK_STOP_WORDS)
    c4: C4LineSettings = field(default_factory=C4LineSettings)  # C4 line rules (Raffel et al. 2020)
    fineweb: FineWebSettings = field(default_factory=FineWebSettings)  # datatrove FineWebQualityFilter
    user_rules: str = ""  # YAML of regex rules (see pipeline/resources/user_rules.yaml); "" = none
    # Han/kana one token per character (our variant; only texts with CJK change). False = datatrove's
    # spaCy-English word splitting on every text, as FineWeb computed its rules.
    cjk_per_character: bool = True


class ScoreRules(Stage):
    name = "score-rules"
    config_class = ScoreRulesConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.rejects import GUARD_SCHEMA, guard_batches, split_guarded
        from pipeline.score.document import metric_columns, score_batch
        from pipeline.score.user_rules import load_rules

        cfg: ScoreRulesConfig = ctx.settings
        settings = ScoreSettings(stop_words=cfg.stop_words, c4=cfg.c4, fineweb=cfg.fineweb,
                                 cjk_per_character=cfg.cjk_per_character)
        rules = load_rules(cfg.user_rules)
        metrics = metric_columns(rules)
        docs = ctx.read_documents()
        # Re-running on scored data replaces the old scores instead of failing on duplicate names.
        docs = docs.drop(*[c for c in docs.columns if c.startswith("rule_")])
        columns = list(docs.columns)  # a plain list: the closure below must not capture the DataFrame
        others = [c for c in columns if c != "text"]
        schema = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in docs.schema.fields]
                           + [f"`{c}` double" for c in metrics])

        def score(pdf, _):
            scored = score_batch(pdf["text"], settings, rules)
            out = pdf[others].copy()
            out["text"] = scored["text"]
            for c in metrics:
                out[c] = scored[c].astype("float64")
            return out[[*columns, *metrics]]

        guarded = docs.mapInPandas(guard_batches(score, [*columns, *metrics]), f"{schema}, {GUARD_SCHEMA}").cache()
        scored, rejected, reasons = split_guarded(guarded)
        agg = scored.agg(F.sum("rule_c4_lines_removed").alias("lines"),
                         F.sum(F.when(F.length("text") == 0, 1).otherwise(0)).alias("emptied")).first()
        return StageResult(documents=scored, side_outputs={"rejected": rejected}, stats={
            "rejected": reasons,
            "metrics": metrics,
            "c4_lines_removed": int(agg["lines"] or 0),
            "emptied_by_c4_lines": int(agg["emptied"] or 0),
            "user_rules": [r.name for r in rules],
        })


STAGE = ScoreRules()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
