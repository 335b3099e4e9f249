"""Read WARC/WET files (local or Hadoop URIs) in parallel into decoded HTML pages, counting skips.

One Spark task per file. Kept: HTTP 200 HTML/text responses (decoded with the declared, <meta>
or sniffed charset) and WET conversion records. Every other record is counted by reason in
`_stats.json` and listed in `OUT/_skipped/`; corrupt or truncated gzip members are skipped and
the rest of the file is still read. Output is a table (url, html, text, charset, fetched_at,
warc_file, ...) for the `extract` stage; the latest capture of a URL wins.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.stage import Stage, StageContext, StageResult

WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc.gz")

ROW_SCHEMA = ("url string, html string, text string, charset string, charset_source string, "
              "content_type string, fetched_at string, record_type string, warc_record_id string, "
              "warc_file string, offset long, truncated string, skip_reason string")


@dataclass
class IngestWarcConfig:
    keep_latest_per_url: bool = True  # recrawls of one URL become one page (the newest capture), as CC dedups
    max_record_bytes: int = 64 << 20  # larger records are counted and skipped (CC's own cap is 1 MiB)
    max_header_bytes: int = 1 << 20  # a longer WARC header is counted and skipped (real ones are < 10 KiB)
    allow_empty: bool = False  # files holding no record at all are an error unless a user asks for an empty run


def list_local_files(paths: list[str]) -> list[str]:
    files = []
    for path in paths:
        p = Path(path.removeprefix("file://"))
        if p.is_dir():
            files += sorted(str(f) for f in p.rglob("*") if f.is_file() and f.name.endswith(WARC_SUFFIXES)
                            and not any(part.startswith(("_", ".")) for part in f.relative_to(p).parts))
        elif p.is_file():
            files.append(str(p))
        else:
            raise UsageError(f"input not found: {path}")
    return files


def _skip_row(name: str, url, offset, reason: str) -> tuple:
    return (url, None, None, None, None, None, None, None, None, name, offset, None, reason)


def rows_of_stream(stream, name: str, max_bytes: int, max_header_bytes: int = 1 << 20):
    """Flat tuples in ROW_SCHEMA order for every record of one file.

    A failure nobody planned for is counted (`error:<Exception>`), never raised: in a record's
    parsing it skips that record; in the reader it skips the rest of that file.
    """
    from pipeline.rejects import error_reason
    from pipeline.web import warc_read
    from pipeline.web.records import PAGE_COLUMNS, parse_record

    try:
        for raw in warc_read.iter_raw_records(stream, max_bytes, max_header_bytes):
            try:
                parsed = list(parse_record(raw, name))
            except Exception as exc:  # noqa: BLE001 - one hostile record must not stop the job
                yield _skip_row(name, None, getattr(raw, "offset", None), error_reason(exc))
                continue
            for row, reason, where in parsed:
                if row is not None:
                    yield tuple(row[c] for c in PAGE_COLUMNS) + (None,)
                else:
                    yield _skip_row(name, where["url"], where["offset"], reason)
    except Exception as exc:  # noqa: BLE001 - the file's remaining records are counted as one skip
        yield _skip_row(name, None, None, error_reason(exc))


class IngestWarc(Stage):
    name = "ingest-warc"
    config_class = IngestWarcConfig
    input_kind = "files"
    output_kind = "table"

    def run(self, ctx: StageContext) -> StageResult:
        import io

        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from pipeline.storage import is_local

        max_bytes, max_header = ctx.settings.max_record_bytes, ctx.settings.max_header_bytes
        local = list_local_files([p for p in ctx.inputs if is_local(p)])
        remote = [p for p in ctx.inputs if not is_local(p)]
        sc = ctx.spark.sparkContext

        def read_local(paths):
            for path in paths:
                with open(path, "rb") as f:
                    yield from rows_of_stream(f, path, max_bytes, max_header)

        rdds = []
        if local:
            rdds.append(sc.parallelize(local, len(local)).mapPartitions(read_local))
        if remote:  # any Hadoop filesystem (s3a://, hdfs://, gs://): one partition per file
            files = sc.binaryFiles(",".join(remote)).filter(lambda kv: kv[0].endswith(WARC_SUFFIXES))
            rdds.append(files.flatMap(
                lambda kv: rows_of_stream(io.BytesIO(kv[1]), kv[0], max_bytes, max_header)))
        if not rdds:
            raise UsageError(f"no WARC/WET files ({', '.join(WARC_SUFFIXES)}) under {ctx.inputs}")
        rdd = rdds[0] if len(rdds) == 1 else sc.union(rdds)
        rows = ctx.spark.createDataFrame(rdd, ROW_SCHEMA).cache()
        skipped = rows.filter(F.col("skip_reason").isNotNull()).select("warc_file", "offset", "url", "skip_reason")
        pages = rows.filter(F.col("skip_reason").isNull()).drop("skip_reason")
        n_pages = pages.count()
        if ctx.settings.keep_latest_per_url:
            w = Window.partitionBy("url").orderBy(F.col("fetched_at").desc(), F.col("warc_file").desc(),
                                                  F.col("offset").desc())
            pages = pages.withColumn("_n", F.row_number().over(w)).filter("_n = 1").drop("_n")
        reasons = {r["skip_reason"]: r["count"] for r in skipped.groupBy("skip_reason").count().collect()}
        # Files with no records at all (0 bytes, or a gzip of nothing) are empty input, not data.
        if n_pages == 0 and set(reasons) <= {"empty_record"} and not ctx.settings.allow_empty:
            raise UsageError(f"ingest-warc: no WARC records in {', '.join(ctx.inputs)} (empty files); "
                             "set ingest-warc.allow_empty=true for an empty run")
        charsets = {f"{r['charset']}/{r['charset_source']}": r["count"]
                    for r in pages.groupBy("charset", "charset_source").count().collect()}
        n_kept = pages.count()
        return StageResult(documents=pages, rows_in=rows.count(), side_outputs={"skipped": skipped}, stats={
            "files": len(local) + len(remote), "skipped": reasons, "charsets": charsets,
            "records_kept": n_pages, "duplicate_url_dropped": n_pages - n_kept})


STAGE = IngestWarc()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
