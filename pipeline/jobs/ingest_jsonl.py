"""Read JSON Lines documents (local or Hadoop paths, .gz ok) into the document schema."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class IngestJsonlConfig:
    source: str = "web"  # used where a line carries no `source`


class IngestJsonl(Stage):
    name = "ingest-jsonl"
    config_class = IngestJsonlConfig
    input_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        import pandas as pd
        from pyspark.sql import functions as F

        from pipeline.ingest.jsonl import parse_document_line
        from pipeline.schema import CORE_COLUMNS

        source = ctx.settings.source
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        lines = ctx.spark.read.text(ctx.inputs).withColumn("file", F.input_file_name())
        lines = lines.filter(F.trim("value") != "")
        schema = "id string, text string, source string, url string, title string, lang string, " \
                 "lang_score double, fetched_at string, metadata string, reject_reason string, " \
                 "raw string, file string"

        columns = [c.split()[0] for c in schema.split(", ")]

        def parse(batches):
            for pdf in batches:
                rows = []
                for line, file in zip(pdf["value"], pdf["file"], strict=True):
                    doc, reason = parse_document_line(line, source, fetched_at)
                    if doc is None:
                        rows.append({"reject_reason": reason, "raw": line[:10_000], "file": file})
                    else:
                        rows.append({**doc, "reject_reason": None, "raw": None, "file": None})
                out = pd.DataFrame(rows, columns=columns).astype(object)
                out["lang_score"] = pd.to_numeric(out["lang_score"], errors="coerce").astype("float64")
                yield out

        parsed = lines.mapInPandas(parse, schema).cache()
        docs = parsed.filter(F.col("reject_reason").isNull()).select(*CORE_COLUMNS)
        # Two lines naming the same url are one document: keep the first by text, deterministically.
        parsed_docs = docs
        docs = _dedup_ids(docs)
        rejected = parsed.filter(F.col("reject_reason").isNotNull()).select("reject_reason", "raw", "file")
        reasons = {r["reject_reason"]: r["count"] for r in rejected.groupBy("reject_reason").count().collect()}
        total = parsed.count()
        duplicate_ids = parsed_docs.count() - docs.count()
        return StageResult(documents=docs, rows_in=total,
                           stats={"rejected": reasons, "duplicate_id_dropped": duplicate_ids},
                           side_outputs={"rejected": rejected})


def _dedup_ids(docs):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy("id").orderBy("text")
    return docs.withColumn("_n", F.row_number().over(w)).filter("_n = 1").drop("_n")


STAGE = IngestJsonl()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
