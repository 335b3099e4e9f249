"""Normalise text (NFC, control characters, line endings, blank runs); set empty results aside."""


import sys

from pipeline.stage import Stage, StageContext, StageResult


class Normalize(Stage):
    name = "normalize"

    def run(self, ctx: StageContext) -> StageResult:
        import pandas as pd
        from pyspark.sql import functions as F
        from pyspark.sql.functions import pandas_udf

        from pipeline.text.normalize import normalize_text

        @pandas_udf("string")
        def normalize(texts: pd.Series) -> pd.Series:
            return texts.map(normalize_text)

        docs = ctx.read_documents().withColumn("text", normalize("text")).cache()
        empty = docs.filter(F.length("text") == 0)
        n_empty = empty.count()
        return StageResult(
            documents=docs.filter(F.length("text") > 0),
            stats={"dropped": {"empty_after_normalize": n_empty}},
            side_outputs={"rejected": empty.withColumn("reject_reason", F.lit("empty_after_normalize"))},
        )


STAGE = Normalize()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
