"""A demo-like run recorded in a SQLite or PostgreSQL catalog (the report runs the same SQL on both)."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

from pipeline.catalog import Catalog
from tests.report.demo_run import build_demo_run

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres():
    """The test machines run PostgreSQL on 127.0.0.1:5432; its absence fails unless PIPELINE_NO_POSTGRES=1."""
    import psycopg2

    try:
        psycopg2.connect(PG_BASE, connect_timeout=3).close()
    except psycopg2.OperationalError as e:
        if os.environ.get("PIPELINE_NO_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL not reachable: {e}")
        raise
    return psycopg2


@pytest.fixture
def sqlite_catalog(data_root):
    return Catalog(f"sqlite:///{data_root / 'catalog.sqlite'}")


@contextmanager
def _postgres_catalog():
    """A Catalog in a fresh PostgreSQL schema, dropped afterwards."""
    psycopg2 = _postgres()
    schema = f"report_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG_BASE)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    try:
        yield Catalog(f"{PG_BASE}?options=-csearch_path%3D{schema}")
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_catalog(request, data_root):
    if request.param == "sqlite":
        yield Catalog(f"sqlite:///{data_root / 'catalog.sqlite'}")
        return
    with _postgres_catalog() as catalog:
        yield catalog


@pytest.fixture
def postgres_catalog():
    with _postgres_catalog() as catalog:
        yield catalog


@pytest.fixture
def demo(sqlite_catalog, data_root, monkeypatch):
    """The demo-like run in the data root's own SQLite catalog (what the CLI finds by default)."""
    paths = build_demo_run(sqlite_catalog, data_root, monkeypatch)
    return {"catalog": sqlite_catalog, "data_root": data_root, **paths}


@pytest.fixture(scope="session")
def built_report(tmp_path_factory):
    """The demo-like run and its report, built once through the CLI (matplotlib makes a build ~5 s)."""
    from pipeline.cli import main

    root = tmp_path_factory.mktemp("report") / "data"
    root.mkdir()
    url = f"sqlite:///{root / 'catalog.sqlite'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_CATALOG_URL", url)
        paths = build_demo_run(Catalog(url), root, mp)
        assert main(["report", "--run", "demo", "--data-root", str(root),
                     "--eval-report", str(paths["eval_report"])]) == 0
    html_path = root / "demo" / "report.html"
    return {"catalog": Catalog(url), "data_root": root, "html_path": html_path, "html": html_path.read_text(),
            **paths}
