import os
import uuid

import pytest

from pipeline.catalog import Catalog, flatten_numbers, format_table
from pipeline.errors import UsageError

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres():
    """The test machines run PostgreSQL on 127.0.0.1:5432; its absence is a failure, not a skip,
    unless PIPELINE_NO_POSTGRES=1 says this machine has none."""
    import psycopg2

    try:
        psycopg2.connect(PG_BASE, connect_timeout=3).close()
    except psycopg2.OperationalError as e:
        if os.environ.get("PIPELINE_NO_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL not reachable: {e}")
        raise
    return psycopg2


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path):
    if request.param == "sqlite":
        yield Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
        return
    psycopg2 = _postgres()
    schema = f"catalog_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG_BASE)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    try:
        yield Catalog(f"{PG_BASE}?options=-csearch_path%3D{schema}")
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def test_runs_stages_and_stats_round_trip(catalog):
    catalog.init()
    catalog.init()  # idempotent DDL
    catalog.start_run("r1", "/data", "{}")
    catalog.start_stage("r1", "ingest", "/data/r1/ingest")
    catalog.finish_stage("r1", "ingest", status="succeeded", rows_in=10, rows_out=8, nbytes=123,
                         seconds=1.5, stats={"rejected": {"invalid_json": 2}, "note": "text is skipped"})
    catalog.start_stage("r1", "filter", "/data/r1/filter")
    catalog.finish_stage("r1", "filter", status="failed", error="boom")
    catalog.finish_run("r1", "failed")

    cols, rows = catalog.query("stages", {"run_id": "r1"})
    by_stage = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    assert by_stage["ingest"]["rows_in"] == 10 and by_stage["ingest"]["rows_out"] == 8
    assert by_stage["filter"]["status"] == "failed"
    cols, rows = catalog.query("runs")
    assert rows[0][cols.index("status")] == "failed" and rows[0][cols.index("stages")] == 2
    _, stats = catalog.query("SELECT name, value FROM stage_stats WHERE run_id = :r", {"r": "r1"})
    assert stats == [("rejected.invalid_json", 2.0)]


def test_rerunning_a_stage_replaces_its_row_and_stats(catalog):
    catalog.init()
    catalog.start_run("r2", "/data", "{}")
    for rows_out in (5, 7):
        catalog.start_stage("r2", "dedup", "/data/r2/dedup")
        catalog.finish_stage("r2", "dedup", status="succeeded", rows_out=rows_out,
                             stats={"clusters": rows_out})
    _, rows = catalog.query("SELECT rows_out FROM stage_outputs WHERE run_id = :r", {"r": "r2"})
    _, stats = catalog.query("SELECT value FROM stage_stats WHERE run_id = :r", {"r": "r2"})
    assert rows == [(7,)] and stats == [(7.0,)]


def test_unknown_catalog_url_is_a_usage_error():
    with pytest.raises(UsageError, match="sqlite:///"):
        Catalog("mysql://x")


def test_flatten_and_format():
    assert flatten_numbers({"a": {"b": 1, "c": True}, "d": "x"}) == {"a.b": 1.0, "a.c": 1.0}
    table = format_table(["stage", "rows"], [("ingest", 3), ("filter", None)])
    assert table.splitlines()[0].split() == ["stage", "rows"] and "ingest  3" in table
