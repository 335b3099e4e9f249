"""The named report queries (sql/queries/report_*.sql) on SQLite and PostgreSQL, and from their CLIs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from pipeline.catalog import SQL_DIR, Catalog, sql_text, statements
from pipeline.report.evaluation import record_evaluation
from pipeline.report.gather import rows_of
from tests.report.demo_run import EVAL, RUN, STAGES, build_demo_run, stats_for

REPORT_QUERIES = sorted(p.stem for p in (SQL_DIR / "queries").glob("report_*.sql"))


def test_funnel_reasons_mix_clusters_synth_tokens_match_what_the_stages_wrote(any_catalog, data_root, monkeypatch):
    build_demo_run(any_catalog, data_root, monkeypatch)
    p = {"run_id": RUN}
    funnel = rows_of(any_catalog, "report_funnel", p)
    assert [r["stage"] for r in funnel] == [s for s, *_ in STAGES]  # execution order, not alphabetical
    for r, (_, rows_in, rows_out, _) in zip(funnel, STAGES, strict=True):
        assert (r["rows_in"], r["rows_out"], r["dropped"]) == (rows_in, rows_out, rows_in - rows_out)

    reasons = {(r["stage"], r["kind"], r["reason"]): r["documents"] for r in rows_of(any_catalog, "report_drop_reasons", p)}
    expected = {}
    for stage, _, _, stats in STAGES:
        for kind in ("dropped", "rejected"):
            expected.update({(stage, kind, k): v for k, v in stats.get(kind, {}).items()})
    assert reasons == expected  # `failed.*` and `dropped_total` are not reasons

    clusters = {(r["stage"], r["size_bin"]): r["clusters"] for r in rows_of(any_catalog, "report_cluster_sizes", p)}
    assert clusters == {("dedup-exact", "2"): 1, ("dedup-exact", "3-4"): 1, ("dedup-minhash", "2"): 2,
                        ("dedup-semantic", "2"): 1}

    mix_groups = stats_for("mix")["groups"]
    mix = {r["mix_group"]: r for r in rows_of(any_catalog, "report_mix", p)}
    assert set(mix) == set(mix_groups)
    for group, g in mix_groups.items():
        for key, value in g.items():
            assert mix[group][key] == pytest.approx(float(value)), (group, key)

    synth = {}
    for r in rows_of(any_catalog, "report_synth", p):
        synth.setdefault(r["generator"], {})[r["counter"]] = r["value"]
    assert synth == stats_for("synth")["generators"]

    tokens = {(r["split"], r["domain"]): r["tokens"] for r in rows_of(any_catalog, "report_tokens", p)}
    by_domain = stats_for("tokenize")["tokens_by_domain"]
    assert tokens == {(split, d): n for split, ds in by_domain.items() for d, n in ds.items()}
    assert [s for s, _ in tokens] == ["train"] * 3 + ["val"] * 2


def test_record_eval_replaces_a_models_rows_and_keeps_variant_order(any_catalog, tmp_path):
    any_catalog.init()
    report = tmp_path / "report.json"
    report.write_text(json.dumps(EVAL))
    assert record_evaluation(any_catalog, RUN, report) == 3
    assert record_evaluation(any_catalog, RUN, report) == 3  # a rerun replaces, never duplicates
    other = {**EVAL, "model": "/models/other", "variants": EVAL["variants"][:1]}
    (tmp_path / "other.json").write_text(json.dumps(other))
    record_evaluation(any_catalog, RUN, tmp_path / "other.json")
    rows = rows_of(any_catalog, "report_evaluations", {"run_id": RUN})
    demo = [r for r in rows if r["model"] == EVAL["model"]]
    assert [r["variant"] for r in demo] == ["fp32", "int8", "int4-gptq"]
    fp32 = demo[0]
    assert fp32["token_perplexity"] == pytest.approx(301.25) and fp32["exact_match_items"] == 4
    assert fp32["peak_memory_bytes"] == 12_000_000 and fp32["metric"] == "token_perplexity"
    assert demo[1]["exact_match"] is None and demo[2]["peak_memory_bytes"] is None
    assert len(rows) == 4


def test_evaluations_table_joins_an_existing_catalog_without_touching_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    catalog = Catalog(url)
    old_ddl = sql_text("catalog").split("CREATE TABLE IF NOT EXISTS evaluations")[0]
    with catalog.connect() as conn:
        for stmt in statements(old_ddl):
            catalog.execute(conn, stmt)
    catalog.start_run("old", "/data", "{}")
    catalog.init()  # what every command does first: adds `evaluations`, keeps the rest
    assert rows_of(catalog, "report_evaluations", {"run_id": "old"}) == []
    assert rows_of(catalog, "SELECT run_id FROM runs", {}) == [{"run_id": "old"}]


def test_report_queries_hold_no_percent_sign():
    # psycopg2 reads % as a placeholder once parameters are passed (see report_drop_reasons.sql)
    for name in REPORT_QUERIES:
        assert "%" not in sql_text(f"queries/{name}"), name


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 command-line shell")
def test_named_queries_run_in_the_sqlite3_shell(sqlite_catalog, data_root, monkeypatch):
    build_demo_run(sqlite_catalog, data_root, monkeypatch)
    for name in REPORT_QUERIES:
        script = (f".parameter set :run_id \"'{RUN}'\"\n.parameter set :stage \"'filter'\"\n"
                  f".read {SQL_DIR / 'queries' / f'{name}.sql'}\n")
        out = subprocess.run(["sqlite3", "-bail", str(data_root / "catalog.sqlite")], input=script, text=True,
                             capture_output=True, timeout=30)
        assert out.returncode == 0 and not out.stderr, (name, out.stderr)
        assert out.stdout.strip() or name == "report_evaluations", f"{name} returned nothing for the demo run"


@pytest.mark.skipif(shutil.which("psql") is None, reason="no psql client")
def test_named_queries_run_in_psql(postgres_catalog, data_root, monkeypatch):
    build_demo_run(postgres_catalog, data_root, monkeypatch)
    base, _, options = postgres_catalog.url.partition("?options=")
    env = {**os.environ, "PGOPTIONS": options.replace("%3D", "=")}
    for name in REPORT_QUERIES:
        out = subprocess.run(["psql", base, "-X", "-v", "ON_ERROR_STOP=1", "-v", f"run_id='{RUN}'",
                              "-v", "stage='filter'", "-f", str(SQL_DIR / "queries" / f"{name}.sql")],
                             text=True, capture_output=True, timeout=30, env=env)
        assert out.returncode == 0, (name, out.stderr)
        assert "(0 rows)" not in out.stdout or name == "report_evaluations", name
