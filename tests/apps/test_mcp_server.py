"""The MCP server driven by the SDK's own client over stdio, against a real SQLite catalog, a real
index built by the `index` stage and a real Airflow api-server on 127.0.0.1 (one for the module)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.apps import airflow_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def airflow_launch(tmp_path_factory):
    """Started first, so Airflow migrates and loads the DAGs while Spark builds the index."""
    server = airflow_server.launch(tmp_path_factory.mktemp("airflow-api"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def airflow(airflow_launch, pipeline_state):
    return airflow_launch.ready()


@pytest.fixture(scope="module")
def pipeline_state(airflow_launch, indexed_run):
    """A catalog with one finished run (funnel, drop reasons, an evaluation), its index and report."""
    from pipeline.catalog import Catalog

    data_root, url = indexed_run
    catalog = Catalog(url)
    catalog.start_stage("apps", "filter", str(data_root / "apps" / "filter"))
    catalog.finish_stage("apps", "filter", status="succeeded", rows_in=10, rows_out=6, seconds=1.5,
                         stats={"dropped": {"gopher_word_count": 3, "c4_lorem": 1}, "kept_fraction": 0.6})
    catalog.finish_run("apps", "succeeded")
    with catalog.connect() as conn:
        catalog.execute(conn, """INSERT INTO evaluations (run_id, model, variant, metric, token_perplexity,
            exact_match, recorded_at) VALUES ('apps', 'tiny', 'fp32', 'token_perplexity', 12.5, 0.25, 'now')""")
    (data_root / "apps" / "report.html").write_text("<html><body><h1>Run apps</h1></body></html>")
    return data_root, url


def server_params(data_root, url, airflow_url: str, airflow=None) -> StdioServerParameters:
    env = dict(os.environ, PIPELINE_CATALOG_URL=url, AIRFLOW_API_URL=airflow_url)
    if airflow is not None:
        env.update(AIRFLOW_USERNAME=airflow.username, AIRFLOW_PASSWORD=airflow.password)
    return StdioServerParameters(command=sys.executable, args=["-m", "pipeline.apps.mcp_server",
                                                               "--data-root", str(data_root)], env=env)


def call_all(params, calls: list[tuple[str, dict]]) -> list:
    """Run tool calls in order on one stdio session (one server process)."""
    async def go():
        out = []
        async with Client(params, read_timeout_seconds=120) as client:
            for name, args in calls:
                out.append(await client.call_tool(name, args) if name != "$resource" else
                           await client.read_resource(args["uri"]))
        return out

    return anyio.run(go)


def payload(result) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content or json.loads(result.content[0].text)


def test_tools_over_stdio_against_catalog_index_and_airflow(pipeline_state, airflow):
    data_root, url = pipeline_state
    runs, funnel, stats, search, trig, status = call_all(server_params(data_root, url, airflow.url, airflow), [
        ("list_runs", {}), ("run_funnel", {"run_id": "apps"}),
        ("stage_stats", {"run_id": "apps", "stage": "filter"}),
        ("search_documents", {"run_id": "apps", "query": "Which observatory first recorded the Zorblax comet?"}),
        ("trigger_dag", {"dag": "data", "params": {"run_id": "from-mcp", "min_quality_score": 0.4}}),
        ("list_runs", {}),
    ])
    assert [r["run_id"] for r in payload(runs)["runs"]] == ["apps"]
    f = payload(funnel)
    assert {s["stage"] for s in f["stages"]} == {"index", "filter"}
    assert {(d["reason"], d["documents"]) for d in f["drop_reasons"]} == {("gopher_word_count", 3.0), ("c4_lorem", 1.0)}
    assert payload(stats)["stats"]["dropped.gopher_word_count"] == 3.0
    hits = payload(search)["hits"]
    assert hits[0]["doc_id"] == "doc-comet" and len(hits) == 5
    run = payload(trig)
    assert run["dag_id"] == "llm_data_pipeline" and run["state"] == "queued"
    assert run["conf"]["min_quality_score"] == 0.4
    assert not status.is_error  # the session is still alive after a trigger


def test_bad_input_is_a_tool_error_and_the_server_lives_on(pipeline_state, airflow):
    data_root, url = pipeline_state
    results = call_all(server_params(data_root, url, airflow.url, airflow), [
        ("run_funnel", {"run_id": "no-such-run"}),
        ("stage_stats", {"run_id": "apps", "stage": "tokenize"}),
        ("search_documents", {"run_id": "../etc", "query": "x"}),
        ("trigger_dag", {"dag": "data", "params": {"min_quality_score": "very high"}}),
        ("trigger_dag", {"dag": "training", "params": {"zero_stage": 7}}),
        ("list_runs", {}),
    ])
    *errors, alive = results
    assert all(r.is_error for r in errors), [r.content[0].text for r in errors]
    texts = [r.content[0].text for r in errors]
    assert "unknown run 'no-such-run'" in texts[0] and "apps" in texts[0]
    assert "no stage 'tokenize'" in texts[1]
    assert "not a run id" in texts[2]
    assert "HTTP 400" in texts[3] and "min_quality_score" in texts[3]
    assert "HTTP 400" in texts[4] and "zero_stage" in texts[4]
    assert payload(alive)["runs"][0]["run_id"] == "apps"


def test_airflow_down_or_no_credentials_is_a_tool_error(pipeline_state, airflow):
    data_root, url = pipeline_state
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    down, = call_all(server_params(data_root, url, closed, airflow), [("trigger_dag", {"dag": "data"})])
    no_login, = call_all(server_params(data_root, url, airflow.url, None), [("trigger_dag", {"dag": "data"})])
    assert down.is_error and "unreachable" in down.content[0].text
    assert no_login.is_error and "AIRFLOW_USERNAME" in no_login.content[0].text


def test_resources_and_evaluation_table(pipeline_state, airflow):
    data_root, url = pipeline_state
    stages, report, evaluation, missing = call_all(server_params(data_root, url, airflow.url), [
        ("$resource", {"uri": "pipeline://stages"}),
        ("$resource", {"uri": "pipeline://runs/apps/report.html"}),
        ("evaluation_table", {"run_id": "apps"}),
        ("evaluation_table", {"run_id": "nope"}),
    ])
    text = stages.contents[0].text
    assert "dedup-semantic" in text and "| `index` |" in text
    assert "<h1>Run apps</h1>" in report.contents[0].text
    assert payload(evaluation)["variants"][0]["exact_match"] == 0.25
    assert missing.is_error


def test_streamable_http_on_loopback(pipeline_state):
    data_root, url = pipeline_state
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.apps.mcp_server", "--transport", "http", "--port",
                             str(port), "--data-root", str(data_root)], env=dict(os.environ, PIPELINE_CATALOG_URL=url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async def go():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("list_runs", {})

        deadline = time.time() + 60
        while True:
            try:
                result = anyio.run(go)
                break
            except Exception:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        assert payload(result)["runs"][0]["run_id"] == "apps"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
