"""The pure parts of setting bad records aside: line parsing, gzip checks, the per-record guard, excerpts."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from pipeline.archive_safety import ArchiveLimits, ArchiveRefused, gunzip
from pipeline.errors import UsageError
from pipeline.ingest.files import gzip_problem
from pipeline.ingest.jsonl import parse_raw_line
from pipeline.parquet_input import parquet_parts_problem, read_parquet_dataset
from pipeline.rejects import GUARD_RAW, GUARD_REASON, RAW_LIMIT, guard_batches, raw_excerpt
from tests.hostile import corpus


@pytest.mark.parametrize("reason, line", [(r, line) for r, line in corpus.hostile_lines().items()
                                          if r != "line_too_long"])  # that one is cut in Spark, by length
def test_each_hostile_line_is_a_reason_not_an_exception(reason, line):
    assert parse_raw_line(line, "web", "t") == (None, reason)


def test_good_lines_still_parse():
    for line in corpus.good_lines():
        doc, reason = parse_raw_line(line, "web", "t")
        assert reason == "" and doc["text"].startswith("The committee")


def test_lone_surrogate_in_url_or_metadata_is_rejected_before_hashing():
    assert parse_raw_line(b'{"text": "ok", "url": "http://x/\\udfff"}', "web", "t") == (None, "lone_surrogate")
    assert parse_raw_line(b'{"text": "ok", "metadata": {"k": "\\ud800"}}', "web", "t") == (None, "lone_surrogate")


def test_gzip_problems(tmp_path):
    data = b"line\n" * 50_000
    whole = gzip.compress(data) + gzip.compress(b"second member\n")
    cases = {"whole.gz": whole, "cut.gz": whole[:-30], "garbage.gz": whole[:20] + b"\x00" * 200}
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
    assert gzip_problem(str(tmp_path / "whole.gz")) is None  # concatenated members read like gzip -d
    assert gzip_problem(str(tmp_path / "cut.gz")) == "truncated_gzip"
    assert gzip_problem(str(tmp_path / "garbage.gz")) == "corrupt_gzip"


def test_truncated_gzip_payload_is_refused_not_partial():
    data = b"\\section{Intro} words " * 20_000
    assert gunzip(gzip.compress(data), ArchiveLimits()) == data
    with pytest.raises(ArchiveRefused) as exc:
        gunzip(corpus.truncated_gzip(data), ArchiveLimits())
    assert exc.value.reason == "truncated_archive"


def test_guard_rejects_only_the_failing_record():
    def shout(pdf, _):
        if any(t == "boom" for t in pdf["text"]):
            raise RecursionError("maximum recursion depth exceeded")
        out = pdf.copy()
        out["loud"] = out["text"].str.upper()
        return out

    batch = pd.DataFrame({"id": ["a", "b", "c"], "text": ["one", "boom", "three"]})
    (out,) = list(guard_batches(shout, ["id", "text", "loud"])([batch]))
    assert list(out["loud"]) == ["ONE", None, "THREE"]
    assert list(out[GUARD_REASON]) == [None, "error:RecursionError", None]
    assert list(out[GUARD_RAW]) == [None, "boom", None] and list(out["id"]) == ["a", "b", "c"]


def test_raw_excerpt_is_bounded_and_writable():
    assert len(raw_excerpt("x" * (RAW_LIMIT * 10))) == RAW_LIMIT
    assert raw_excerpt(b"caf\xe9").encode("utf-8") and raw_excerpt("\ud800").encode("utf-8")


def test_broken_parquet_datasets_are_named_in_one_line(tmp_path):
    assert "no Parquet part files (only _SUCCESS)" in parquet_parts_problem(str(corpus.success_only(tmp_path / "s")))
    assert "is not a Parquet file" in parquet_parts_problem(str(corpus.non_parquet_part(tmp_path / "n")))
    assert parquet_parts_problem(str(corpus.documents_with_bad_rows(tmp_path / "d"))) is None
    with pytest.raises(UsageError, match="not a Parquet dataset"):
        read_parquet_dataset(None, str(tmp_path / "s"))
