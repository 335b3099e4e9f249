"""The stage contract end to end through the real runner (in-process Spark)."""

import json

import pytest

from pipeline.dataset import read_stats
from pipeline.errors import SchemaMismatch, UsageError
from pipeline.ingest.jsonl import parse_document_line
from pipeline.text.normalize import normalize_text


def _write_jsonl(path, objs_or_lines):
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs_or_lines) + "\n")
    return path


def test_parse_document_line_reasons():
    assert parse_document_line("{x", "web", "t") == (None, "invalid_json")
    assert parse_document_line("[1]", "web", "t") == (None, "not_an_object")
    assert parse_document_line('{"text": 3}', "web", "t") == (None, "missing_text")
    assert parse_document_line('{"text": " "}', "web", "t") == (None, "empty_text")
    assert parse_document_line('{"text": "a", "source": "tv"}', "web", "t") == (None, "unknown_source")
    doc, _ = parse_document_line('{"text": "a", "url": "u", "metadata": {"k": 1}}', "books", "t")
    again, _ = parse_document_line('{"text": "b", "url": "u"}', "books", "t")
    assert doc["source"] == "books" and doc["metadata"] == '{"k": 1}' and doc["id"] == again["id"]


def test_normalize_text():
    assert normalize_text("cafe\u0301\r\nx \t\n\n\n\n\ny\x00") == "caf\u00e9\nx\n\ny"


def test_ingest_counts_and_sets_aside_bad_lines(tmp_path, data_root, run_stage_in, spark):
    src = _write_jsonl(tmp_path / "in.jsonl", [
        {"text": "first document", "url": "http://a/1"},
        {"text": "same url again", "url": "http://a/1"},
        "{broken",
        {"text": ""},
        {"text": "second document", "url": "http://a/2", "lang": "en", "lang_score": 1},
    ])
    out = data_root / "r1" / "ingest-jsonl"
    summary = run_stage_in("ingest-jsonl", [src], out)
    stats = read_stats(str(out))
    assert (summary.rows_in, summary.rows_out) == (5, 2)
    assert stats["rejected"] == {"invalid_json": 1, "empty_text": 1}
    assert stats["duplicate_id_dropped"] == 1
    assert (out / "_SUCCESS").exists() and stats["side_outputs"]["rejected"] == 2
    reasons = {r.reject_reason for r in spark.read.parquet(str(out / "_rejected")).collect()}
    assert reasons == {"invalid_json", "empty_text"}
    assert not list(out.parent.glob("_tmp-*"))


def test_chained_stage_skip_and_rerun_replace(tmp_path, data_root, run_stage_in, spark):
    src = _write_jsonl(tmp_path / "in.jsonl", [{"text": "a  \r\nb", "url": f"u{i}"} for i in range(3)]
                       + [{"text": "\x00\x01", "url": "ctrl"}])
    ingest = data_root / "r2" / "ingest-jsonl"
    run_stage_in("ingest-jsonl", [src], ingest)
    norm = data_root / "r2" / "normalize"
    summary = run_stage_in("normalize", [ingest], norm)
    assert (summary.rows_in, summary.rows_out) == (4, 3)
    assert {r.text for r in spark.read.parquet(str(norm)).collect()} == {"a\nb"}
    assert read_stats(str(norm))["dropped"] == {"empty_after_normalize": 1}

    skipped = run_stage_in("normalize", [ingest], norm, skip=True)
    assert skipped.status == "skipped" and skipped.rows_out == 4  # replaced, not appended
    assert len(spark.read.parquet(str(norm)).collect()) == 4


def test_inputs_are_checked(tmp_path, data_root, run_stage_in):
    with pytest.raises(UsageError, match="input not found"):
        run_stage_in("normalize", [tmp_path / "nope"], data_root / "r" / "normalize")
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    with pytest.raises(UsageError, match="incomplete"):
        run_stage_in("normalize", [incomplete], data_root / "r" / "normalize")


def test_schema_mismatch_is_rejected(tmp_path, data_root, run_stage_in, spark):
    not_docs = tmp_path / "table"
    spark.createDataFrame([(1, "x")], "a int, b string").write.parquet(str(not_docs))
    with pytest.raises(SchemaMismatch, match="missing column 'text'"):
        run_stage_in("normalize", [not_docs], data_root / "r" / "normalize")
    assert not (data_root / "r" / "normalize").exists()


def test_rerun_on_rewritten_input_sees_new_rows(tmp_path, data_root, run_stage_in, spark):
    """A stage's cached frame must not outlive it: Spark matches cached plans by input path."""
    ingest = data_root / "r5" / "ingest-jsonl"
    first = _write_jsonl(tmp_path / "a.jsonl", [{"text": f"old {i}", "url": f"old{i}"} for i in range(3)])
    run_stage_in("ingest-jsonl", [first], ingest)
    run_stage_in("normalize", [ingest], data_root / "r5" / "normalize")
    second = _write_jsonl(tmp_path / "b.jsonl", [{"text": f"new {i}", "url": f"new{i}"} for i in range(5)])
    run_stage_in("ingest-jsonl", [second], ingest)  # the upstream stage reruns in place
    summary = run_stage_in("normalize", [ingest], data_root / "r5" / "normalize")
    texts = sorted(r.text for r in spark.read.parquet(str(data_root / "r5" / "normalize")).collect())
    assert summary.rows_out == 5 and texts == [f"new {i}" for i in range(5)]
