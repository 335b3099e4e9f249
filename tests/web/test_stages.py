"""The three stages through the real runner: crawl -> WARC, ingest-warc -> pages, extract -> documents."""

from __future__ import annotations

import json

import pytest

from pipeline.dataset import read_stats
from pipeline.schema import document_id
from tests.web.warc_fixtures import GOOD, LATIN1_TEXT, LATIN1_URL, damaged_warc, wet_file


def test_ingest_then_extract_a_damaged_warc_and_a_wet_file(run_stage_in, spark, tmp_path, data_root):
    raw = tmp_path / "raw"
    raw.mkdir()
    damaged_warc(raw / "a.warc.gz")
    wet_file(raw / "b.warc.wet.gz", {"http://wet.test/1": "Ein kurzer deutscher Text über das Wetter in Berlin."},
             gzip=True)
    (raw / "notes.txt").write_text("not a warc")
    pages_out = data_root / "r1" / "ingest-warc"
    summary = run_stage_in("ingest-warc", [raw], pages_out)
    assert summary.rows_out == len(GOOD) + 2  # six good pages, the Latin-1 page, the WET record
    stats = read_stats(str(pages_out))
    assert stats["files"] == 2
    assert stats["skipped"]["corrupt_gzip_member"] == 1 and stats["skipped"]["truncated_gzip_member"] == 1
    assert stats["skipped"]["http_status_4xx"] == 1 and stats["skipped"]["non_html_content_type"] == 1
    skipped = spark.read.parquet(str(pages_out / "_skipped"))
    assert skipped.filter("skip_reason = 'corrupt_gzip_member'").count() == 1

    docs_out = data_root / "r1" / "extract"
    summary = run_stage_in("extract", [pages_out], docs_out)
    assert summary.rows_out == len(GOOD) + 2
    docs = {r["url"]: r for r in spark.read.parquet(str(docs_out)).collect()}
    latin = docs[LATIN1_URL]
    assert LATIN1_TEXT in latin["text"] and latin["id"] == document_id("web", LATIN1_URL)
    assert latin["source"] == "web" and latin["fetched_at"] == "2026-11-01T00:00:00Z"
    assert json.loads(latin["metadata"])["charset"] == "cp1252"
    assert docs["http://wet.test/1"]["lang"] == "de"
    assert read_stats(str(docs_out))["extractor"] == {"trafilatura": len(GOOD) + 1, "wet": 1}


def test_extract_sets_aside_pages_without_text(run_stage_in, spark, tmp_path, data_root):
    from tests.web.warc_fixtures import pair

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "x.warc.gz").write_bytes(pair("http://s.test/empty", b"<html><body><script>var a;</script></body></html>")
                                    + pair("http://s.test/ok", b"<html><body><p>Real words here.</p></body></html>"))
    run_stage_in("ingest-warc", [raw], data_root / "r2" / "ingest-warc")
    summary = run_stage_in("extract", [data_root / "r2" / "ingest-warc"], data_root / "r2" / "extract",
                           overrides=["extract.fallback=false"])
    assert summary.rows_in == 2 and summary.rows_out == 1
    assert read_stats(str(data_root / "r2" / "extract"))["rejected"] == {"no_text": 1}
    rejected = spark.read.parquet(str(data_root / "r2" / "extract" / "_rejected")).collect()
    assert [(r["url"], r["reject_reason"]) for r in rejected] == [("http://s.test/empty", "no_text")]


def test_crawl_stage_writes_warcs_and_resumes_idempotently(run_stage_in, tmp_path, data_root):
    from pipeline.sample.web import build_pages, serve_directory, write_site
    from pipeline.web.warc_write import reconcile

    site = write_site(build_pages(), tmp_path / "site")
    out = data_root / "r3" / "crawl"
    with serve_directory(site) as base:
        seeds = tmp_path / "seeds.txt"
        seeds.write_text(f"# sample site\n{base}\n")
        overrides = ["crawl.allow_networks=[127.0.0.1/32]", "crawl.min_delay=0", "crawl.max_pages=25"]
        summary = run_stage_in("crawl", [seeds], out, overrides=overrides)
        assert summary.rows_out == 25
        first = reconcile(out)
        again = run_stage_in("crawl", [seeds], out, overrides=overrides)
    stats = read_stats(str(out))
    assert again.rows_out == 25 and reconcile(out) == first  # rerun: nothing refetched, nothing doubled
    assert "pages_written" not in stats and stats["state_dir"] == str(data_root / "r3" / "_crawl_state" / "crawl")
    assert all(n == 1 for n in first.values())
    assert not any("/private/" in u for u in first)


@pytest.mark.slow
def test_sample_warc_end_to_end(run_stage_in, spark, tmp_path, data_root):
    from pipeline.sample.web import build_sample

    counts = build_sample(tmp_path / "sample")
    run_stage_in("ingest-warc", [tmp_path / "sample" / "warc"], data_root / "s" / "ingest-warc")
    stats = read_stats(str(data_root / "s" / "ingest-warc"))
    assert stats["rows_out"] == counts["html_200"] and stats["skipped"]["corrupt_gzip_member"] == 2
    summary = run_stage_in("extract", [data_root / "s" / "ingest-warc"], data_root / "s" / "extract")
    langs = read_stats(str(data_root / "s" / "extract"))["lang"]
    assert summary.rows_out == counts["html_200"]
    assert langs["zh"] >= 30 and langs["fr"] >= 3 and langs["de"] >= 3 and langs["es"] >= 3


def test_ingest_warc_sets_a_gzip_bomb_aside_and_goes_on(run_stage_in, spark, tmp_path, data_root):
    import zlib

    from tests.web.warc_fixtures import pair

    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # 256 MiB of zeros in one ~256 KiB gzip member
    bomb = b"".join(c.compress(bytes(1 << 20)) for _ in range(256)) + c.flush()
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "x.warc.gz").write_bytes(bomb + pair("http://s.test/ok", b"<html><body><p>Kept.</p></body></html>"))
    out = data_root / "r3" / "ingest-warc"
    summary = run_stage_in("ingest-warc", [raw], out, overrides=["ingest-warc.max_record_bytes=1048576"])
    assert summary.rows_out == 1
    assert read_stats(str(out))["skipped"]["oversize_record"] == 1
    skipped = spark.read.parquet(str(out / "_skipped")).filter("skip_reason = 'oversize_record'").collect()
    assert [r["offset"] for r in skipped] == [0]
