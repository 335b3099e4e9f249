"""Ingest Project Gutenberg books (plain text, zip, EPUB) with boilerplate stripped and RDF metadata."""

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class IngestBooksConfig:
    urls: list[str] = field(default_factory=list)  # book file URLs, added to --input
    catalog_path: list[str] = field(default_factory=list)  # pg<N>.rdf files, folders, or rdf-files.tar.bz2
    # gutenberg.org/policy/robot_access.html harvests with `wget -w 2`: two seconds between requests.
    request_delay_s: float = 2.0
    timeout_s: float = 30.0
    max_download_bytes: int = 64 << 20  # the largest PG texts are ~20 MB
    max_member_bytes: int = 64 << 20  # see pipeline.archive_safety.ArchiveLimits
    max_total_bytes: int = 1 << 30
    max_members: int = 100_000
    max_ratio: float = 200.0
    allow_empty: bool = False  # no book file in the input is an error unless a user asks for an empty run


def split_inputs(inputs: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(book files, catalog files, URLs): a folder is walked as a mirror holding both."""
    from pathlib import Path

    from pipeline.books.rows import BOOK_SUFFIXES, is_catalog_file

    books, catalog, urls = [], [], []
    for item in inputs:
        if item.startswith(("http://", "https://")):
            urls.append(item)
            continue
        path = Path(item.removeprefix("file://"))
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if is_catalog_file(f.name):
                catalog.append(str(f))
            elif f.name.lower().endswith(BOOK_SUFFIXES):
                books.append(str(f))
    return books, catalog, urls


class IngestBooks(Stage):
    name = "ingest-books"
    config_class = IngestBooksConfig
    input_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.archive_safety import ArchiveLimits, Refusals
        from pipeline.arxiv.api import FetchError, PoliteFetcher
        from pipeline.books.rows import BOOK_SUFFIXES, ROW_SCHEMA, book_rows, catalog_records, rows_frame
        from pipeline.errors import UsageError
        from pipeline.rejects import error_reason

        s = ctx.settings
        limits = ArchiveLimits(max_member_bytes=s.max_member_bytes, max_total_bytes=s.max_total_bytes,
                               max_members=s.max_members, max_ratio=s.max_ratio)
        books, catalog, urls = split_inputs([*ctx.inputs, *s.urls])
        catalog_refusals = Refusals()
        records = catalog_records([*catalog, *s.catalog_path], limits, catalog_refusals)
        fetcher = PoliteFetcher(s.request_delay_s, s.timeout_s, s.max_download_bytes)
        fetch_failed: dict[str, int] = {}
        work: list[tuple[str, bytes | None]] = [(b, None) for b in books]
        for url in urls:
            try:
                work.append((url, fetcher.get(url)))
            except FetchError as exc:
                fetch_failed[exc.reason] = fetch_failed.get(exc.reason, 0) + 1

        if not work and not fetch_failed and not s.allow_empty:
            raise UsageError(f"ingest-books: no book files ({', '.join(BOOK_SUFFIXES)}) in "
                             f"{', '.join(ctx.inputs) or 'the configured urls'}; "
                             "set ingest-books.allow_empty=true for an empty run")

        def parse(batches):
            for pdf in batches:
                rows = []
                for locator, content in zip(pdf["locator"], pdf["content"], strict=True):
                    try:
                        rows += book_rows(locator, content, limits)
                    except Exception as exc:  # noqa: BLE001 - one hostile book must not stop the job
                        rows.append({"source_file": locator, "reject_kind": "rejected",
                                     "reject_reason": error_reason(exc), "reject_count": 1})
                yield rows_frame(rows)

        # A list (not pandas) so an empty input makes an empty frame rather than a type error.
        items = ctx.spark.createDataFrame(work, "locator string, content binary")
        rows = items.repartition(max(1, min(len(work), 64))).mapInPandas(parse, ROW_SCHEMA).cache()
        docs = _with_catalog(ctx.spark, rows.filter(F.col("reject_kind").isNull()), records)
        docs = _to_documents(docs, datetime.now(UTC).isoformat(timespec="seconds"))
        rejected = rows.filter(F.col("reject_kind").isNotNull()).select(
            "reject_kind", "reject_reason", "reject_count", "source_file")
        by_kind: dict[str, dict[str, int]] = {"rejected": {}, "refused": dict(catalog_refusals), "document": {}}
        n = F.when(F.col("reject_kind").isNull(), F.lit(1)).otherwise(F.col("reject_count"))
        for r in rows.groupBy("reject_kind", "reject_reason").agg(F.sum(n).alias("n")).collect():
            kind, reason = r["reject_kind"] or "document", r["reject_reason"] or "books"
            by_kind[kind][reason] = by_kind[kind].get(reason, 0) + int(r["n"])
        n_docs = by_kind["document"].get("books", 0)  # before the duplicate-id drop
        return StageResult(documents=docs, rows_in=len(work), side_outputs={"rejected": rejected},
                           stats={"books": n_docs, "rejected": by_kind["rejected"], "refused": by_kind["refused"],
                                  "catalog_records": len(records), "fetch_failed": fetch_failed,
                                  "requests": fetcher.requests})


def _with_catalog(spark, docs, records: list[dict]):
    """Catalog title/authors/language/rights win over what the file itself says."""
    import json

    import pandas as pd
    from pyspark.sql import functions as F

    if not records:
        return docs
    frame = pd.DataFrame([{"c_id": r["ebook_id"], "c_title": r["title"], "c_authors": json.dumps(r["authors"]),
                           "c_language": r["language"], "c_rights": r["rights"],
                           "c_subjects": json.dumps(r["subjects"])} for r in records]).astype(object)
    frame["c_id"] = frame["c_id"].astype("int64")
    cat = spark.createDataFrame(frame, "c_id long, c_title string, c_authors string, c_language string, "
                                       "c_rights string, c_subjects string").dropDuplicates(["c_id"])
    joined = docs.join(cat, docs.ebook_id == cat.c_id, "left")
    for col in ("title", "language", "rights"):
        joined = joined.withColumn(col, F.coalesce(f"c_{col}", col))
    joined = joined.withColumn("authors", F.when(F.col("c_authors").isNotNull() & (F.col("c_authors") != "[]"),
                                                 F.col("c_authors")).otherwise(F.col("authors")))
    return joined.drop("c_id", "c_title", "c_authors", "c_language", "c_rights")


def _to_documents(docs, fetched_at: str):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if "c_subjects" not in docs.columns:
        docs = docs.withColumn("c_subjects", F.lit("[]"))
    metadata = F.to_json(F.struct(
        "ebook_id", "title", F.from_json("authors", "array<string>").alias("authors"), "language", "rights",
        F.from_json("c_subjects", "array<string>").alias("subjects"),
        F.from_json("chapters", "array<string>").alias("chapters"), "boilerplate_removed",
        "front_matter_chars", "format", "source_file"))
    out = docs.select(
        "id", "text", F.lit("books").alias("source"), "url", "title",
        F.lit(None).cast("string").alias("lang"), F.lit(None).cast("double").alias("lang_score"),
        F.lit(fetched_at).alias("fetched_at"), metadata.alias("metadata"))
    # The same ebook as .txt and .epub is one document: keep one, deterministically.
    w = Window.partitionBy("id").orderBy("metadata")
    return out.withColumn("_n", F.row_number().over(w)).filter("_n = 1").drop("_n")


STAGE = IngestBooks()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
