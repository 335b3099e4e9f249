"""Read JSON Lines documents (local or Hadoop paths, .gz ok) into the document schema.

Every line that cannot become a document (not UTF-8, not JSON, a lone surrogate, nested past the
parser's recursion limit, longer than `max_line_bytes`, no text) and every truncated or corrupt
local `.gz` file is counted by reason in `_stats.json` and kept, cut to 4 KiB, in `OUT/_rejected/`.
No records at all is an error (exit 2) unless `allow_empty` is set.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.stage import Stage, StageContext, StageResult

COLUMNS = ("id string, text string, source string, url string, title string, lang string, "
           "lang_score double, fetched_at string, metadata string, reject_reason string, raw string, file string")


@dataclass
class IngestJsonlConfig:
    source: str = "web"  # used where a line carries no `source`
    allow_empty: bool = False  # no records in the input is an error unless a user asks for an empty run
    # A longer line is rejected before it reaches Python: the same 64 MiB bound as one archive member
    # (pipeline.archive_safety) or one WARC record; a FineWeb document is a few KiB.
    max_line_bytes: int = 64 << 20


def parse_lines(batches, source: str, fetched_at: str):
    """mapInPandas body: raw line bytes -> COLUMNS rows; any failure is a reject row, never raised."""
    import pandas as pd

    from pipeline.ingest.jsonl import parse_raw_line
    from pipeline.rejects import error_reason, raw_excerpt

    columns = [c.split()[0] for c in COLUMNS.split(", ")]
    for pdf in batches:
        rows = []
        for raw, file in zip(pdf["value"], pdf["file"], strict=True):
            try:
                doc, reason = parse_raw_line(bytes(raw), source, fetched_at)
            except Exception as exc:  # noqa: BLE001 - one hostile line must not stop the job
                doc, reason = None, error_reason(exc)
            if doc is None:
                rows.append({"reject_reason": reason, "raw": raw_excerpt(raw), "file": file})
            else:
                rows.append({**doc, "reject_reason": None, "raw": None, "file": None})
        out = pd.DataFrame(rows, columns=columns).astype(object)
        out["lang_score"] = pd.to_numeric(out["lang_score"], errors="coerce").astype("float64")
        yield out


class IngestJsonl(Stage):
    name = "ingest-jsonl"
    config_class = IngestJsonlConfig
    input_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.errors import UsageError
        from pipeline.ingest.files import gzip_problem, split_local
        from pipeline.rejects import RAW_LIMIT
        from pipeline.schema import CORE_COLUMNS

        s: IngestJsonlConfig = ctx.settings
        source = s.source
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        local, remote = split_local(ctx.inputs)
        gz = [f for f in local if f.endswith(".gz")]
        bad_files = dict(ctx.spark.sparkContext.parallelize(gz, max(1, min(len(gz), 64)))
                         .map(lambda p: (p, gzip_problem(p))).filter(lambda kv: kv[1] is not None)
                         .collect()) if gz else {}
        readable = [f for f in local if f not in bad_files] + remote
        if readable:
            lines = ctx.spark.read.text(readable).withColumn("file", F.input_file_name())
        else:
            lines = ctx.spark.createDataFrame([], "value string, file string")
        # Bytes, not strings: a line that is not UTF-8 must reach the parser to be rejected (as a
        # string, Arrow fails the whole batch converting it).
        lines = lines.filter(F.trim("value") != "").withColumn("value", F.col("value").cast("binary"))
        too_long = F.length("value") > s.max_line_bytes
        parsed = lines.filter(~too_long).mapInPandas(lambda b: parse_lines(b, source, fetched_at), COLUMNS)
        long_rows = lines.filter(too_long).select(
            F.lit("line_too_long").alias("reject_reason"),
            F.expr(f"make_valid_utf8(cast(substring(value, 1, {RAW_LIMIT}) as string))").alias("raw"), "file")
        file_rows = ctx.spark.createDataFrame([(reason, None, path) for path, reason in sorted(bad_files.items())],
                                              "reject_reason string, raw string, file string")
        parsed = parsed.cache()
        rejected = parsed.filter(F.col("reject_reason").isNotNull()).select("reject_reason", "raw", "file") \
            .unionByName(long_rows).unionByName(file_rows)
        reasons = {r["reject_reason"]: r["count"] for r in rejected.groupBy("reject_reason").count().collect()}
        total = parsed.count() + sum(reasons.get(r, 0) for r in ("line_too_long", *set(bad_files.values())))
        if total == 0 and not s.allow_empty:
            raise UsageError(f"ingest-jsonl: no records in {', '.join(ctx.inputs)} (empty files or blank lines); "
                             "set ingest-jsonl.allow_empty=true for an empty run")
        docs = parsed.filter(F.col("reject_reason").isNull()).select(*CORE_COLUMNS)
        # Two lines naming the same url are one document: keep the first by text, deterministically.
        parsed_docs = docs
        docs = _dedup_ids(docs)
        duplicate_ids = parsed_docs.count() - docs.count()
        return StageResult(documents=docs, rows_in=total,
                           stats={"rejected": reasons, "duplicate_id_dropped": duplicate_ids,
                                  "files_set_aside": len(bad_files)},
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
