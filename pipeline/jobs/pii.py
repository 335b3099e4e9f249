"""Redact PII (emails, phone numbers, IP addresses) in text and count replacements per document (pii_* columns)."""

import sys

from pipeline.score.pii import PiiSettings
from pipeline.stage import Stage, StageContext, StageResult


class Pii(Stage):
    name = "pii"
    config_class = PiiSettings

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.rejects import GUARD_SCHEMA, guard_batches, split_guarded
        from pipeline.score.pii import redact

        settings: PiiSettings = ctx.settings
        kinds = ["emails", "phones", "ips"]
        docs = ctx.read_documents()
        docs = docs.drop(*[f"pii_{k}" for k in kinds if f"pii_{k}" in docs.columns])
        schema = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in docs.schema.fields]
                           + [f"`pii_{k}` bigint" for k in kinds])
        columns = [*docs.columns, *[f"pii_{k}" for k in kinds]]

        def apply(pdf, _):
            results = [redact(t or "", settings) for t in pdf["text"]]
            out = pdf.copy()
            out["text"] = [r[0] for r in results]
            for k in kinds:
                out[f"pii_{k}"] = [r[1][k] for r in results]
                out[f"pii_{k}"] = out[f"pii_{k}"].astype("int64")
            return out

        guarded = docs.mapInPandas(guard_batches(apply, columns), f"{schema}, {GUARD_SCHEMA}").cache()
        redacted, rejected, reasons = split_guarded(guarded)
        sums = redacted.agg(*[F.sum(f"pii_{k}").alias(k) for k in kinds],
                            F.sum(F.when(sum(F.col(f"pii_{k}") for k in kinds) > 0, 1).otherwise(0))
                            .alias("docs")).first()
        return StageResult(documents=redacted, side_outputs={"rejected": rejected}, stats={
            "rejected": reasons,
            "redacted": {k: int(sums[k] or 0) for k in kinds},
            "documents_with_pii": int(sums["docs"] or 0),
        })


STAGE = Pii()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
