"""Ingest arXiv LaTeX sources (bulk tars, e-print payloads, or the arXiv API) as documents."""

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class IngestArxivConfig:
    urls: list[str] = field(default_factory=list)  # API feed or e-print URLs, added to --input
    api_query: str = ""  # arXiv API `search_query`, e.g. "cat:cs.CL" (arXiv API user manual)
    api_id_list: list[str] = field(default_factory=list)
    api_max_results: int = 100
    api_page_size: int = 100  # the API manual asks for slices of at most 2,000
    api_url: str = "https://export.arxiv.org/api/query"  # arXiv API user manual
    eprint_url: str = "https://arxiv.org/e-print"  # arXiv bulk data access help page
    request_delay_s: float = 3.0  # arXiv API terms of use: one request every three seconds
    timeout_s: float = 30.0
    max_download_bytes: int = 64 << 20  # above arXiv's 50 MB submission limit
    metadata_path: str = ""  # Kaggle "arxiv-metadata-oai-snapshot" JSONL: id, title, categories
    max_member_bytes: int = 64 << 20  # see pipeline.archive_safety.ArchiveLimits
    max_total_bytes: int = 1 << 30
    max_members: int = 100_000
    max_ratio: float = 200.0
    allow_empty: bool = False  # no paper source in the input is an error unless a user asks for an empty run


def local_sources(inputs: list[str]) -> list[str]:
    """Files to read: each input file, or every paper/bundle file under an input directory."""
    from pipeline.arxiv.bundle import PAPER_SUFFIXES
    from pipeline.storage import local_path

    out = []
    for item in inputs:
        path = local_path(item)
        if path.is_dir():
            out += sorted(str(p) for p in path.rglob("*") if p.is_file() and p.name.endswith(PAPER_SUFFIXES))
        else:
            out.append(str(path))
    return out


class IngestArxiv(Stage):
    name = "ingest-arxiv"
    config_class = IngestArxivConfig
    input_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.archive_safety import ArchiveLimits
        from pipeline.arxiv.api import PoliteFetcher, fetch_sources, query_url
        from pipeline.arxiv.bundle import PAPER_SUFFIXES
        from pipeline.arxiv.rows import ROW_SCHEMA, rows_frame, source_rows
        from pipeline.errors import UsageError
        from pipeline.rejects import error_reason

        s = ctx.settings
        limits = ArchiveLimits(max_member_bytes=s.max_member_bytes, max_total_bytes=s.max_total_bytes,
                               max_members=s.max_members, max_ratio=s.max_ratio)
        urls = [u for u in [*ctx.inputs, *s.urls] if u.startswith(("http://", "https://"))]
        if s.api_query or s.api_id_list:
            urls += [query_url(s.api_url, s.api_query, s.api_id_list, start,
                               min(s.api_page_size, s.api_max_results - start))
                     for start in range(0, s.api_max_results, s.api_page_size)]
        fetcher = PoliteFetcher(s.request_delay_s, s.timeout_s, s.max_download_bytes)
        fetch_failed: dict[str, int] = {}
        fetched = fetch_sources(urls, fetcher, s.eprint_url, fetch_failed)
        work = [(p, None, None) for p in local_sources([i for i in ctx.inputs if i not in urls])]
        work += fetched
        if not work and not fetch_failed and not s.allow_empty:
            raise UsageError(f"ingest-arxiv: no paper sources ({', '.join(PAPER_SUFFIXES)}) in "
                             f"{', '.join(ctx.inputs) or 'the configured urls'}; "
                             "set ingest-arxiv.allow_empty=true for an empty run")

        def parse(batches):
            for pdf in batches:
                rows = []
                for locator, content, meta in zip(pdf["locator"], pdf["content"], pdf["meta"], strict=True):
                    try:
                        rows += source_rows(locator, content, meta, limits)
                    except Exception as exc:  # noqa: BLE001 - one hostile paper must not stop the job
                        rows.append({"source_file": locator, "reject_kind": "rejected",
                                     "reject_reason": error_reason(exc), "reject_count": 1})
                yield rows_frame(rows)

        # A list (not pandas) so an empty input makes an empty frame rather than a type error.
        items = ctx.spark.createDataFrame(work, "locator string, content binary, meta string")
        rows = items.repartition(max(1, min(len(work), 64))).mapInPandas(parse, ROW_SCHEMA).cache()
        docs = rows.filter(F.col("reject_kind").isNull())
        if s.metadata_path:
            docs = _join_snapshot(ctx.spark, docs, s.metadata_path)
        docs = _to_documents(docs, datetime.now(UTC).isoformat(timespec="seconds"))
        rejected = rows.filter(F.col("reject_kind").isNotNull()).select(
            "reject_kind", "reject_reason", "reject_count", "source_file", "arxiv_id")
        by_kind: dict[str, dict[str, int]] = {"rejected": {}, "refused": {}, "document": {}}
        for r in _counts(rows):
            by_kind[r["reject_kind"] or "document"][r["reject_reason"] or "papers"] = int(r["n"])
        n_docs = by_kind["document"].get("papers", 0)  # before the duplicate-id drop
        return StageResult(
            documents=docs, rows_in=n_docs + sum(by_kind["rejected"].values()),
            side_outputs={"rejected": rejected},
            stats={"papers": n_docs, "rejected": by_kind["rejected"], "refused": by_kind["refused"],
                   "fetch_failed": fetch_failed, "api_requests": fetcher.requests,
                   "sources": len(work)})


def _counts(rows):
    """One pass over the parsed rows: documents and each (kind, reason) with its count."""
    from pyspark.sql import functions as F

    n = F.when(F.col("reject_kind").isNull(), F.lit(1)).otherwise(F.col("reject_count"))
    return rows.groupBy("reject_kind", "reject_reason").agg(F.sum(n).alias("n")).collect()


def _join_snapshot(spark, docs, path: str):
    """Fill title/categories (and the latest version, for unversioned bulk names) from the snapshot."""
    from pyspark.sql import functions as F

    schema = "id string, title string, categories string, versions array<struct<version: string>>"
    meta = spark.read.schema(schema).json(str(Path(path))).select(
        F.col("id").alias("m_id"), F.col("title").alias("m_title"), F.col("categories").alias("m_categories"),
        F.element_at(F.col("versions.version"), -1).alias("m_version"))
    joined = docs.join(meta, docs.arxiv_id == meta.m_id, "left")
    return joined.withColumn("title", F.coalesce(F.regexp_replace(F.trim("m_title"), r"\s+", " "), "title")) \
        .withColumn("categories", F.coalesce("categories", "m_categories")) \
        .withColumn("version", F.coalesce("version", "m_version")) \
        .drop("m_id", "m_title", "m_categories", "m_version")


def _to_documents(docs, fetched_at: str):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    categories = F.when(F.col("categories").isNull(), F.array().cast("array<string>")) \
        .otherwise(F.split("categories", " "))
    metadata = F.to_json(F.struct(
        "arxiv_id", "version", "title", categories.alias("categories"), "primary_category", "main_file",
        "source_file", F.from_json("missing_inputs", "array<string>").alias("missing_inputs")))
    out = docs.select(
        "id", "text", F.lit("arxiv").alias("source"), "url", "title",
        F.lit(None).cast("string").alias("lang"), F.lit(None).cast("double").alias("lang_score"),
        F.lit(fetched_at).alias("fetched_at"), metadata.alias("metadata"))
    # The same paper version in two inputs is one document.
    w = Window.partitionBy("id").orderBy("metadata")
    return out.withColumn("_n", F.row_number().over(w)).filter("_n = 1").drop("_n")


STAGE = IngestArxiv()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
