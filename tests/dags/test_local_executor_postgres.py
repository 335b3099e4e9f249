"""An Airflow run as compose runs it: metadata DB and pipeline catalog in PostgreSQL, LocalExecutor
workers talking to the api-server's execution API (Airflow 3 tasks never touch the metadata DB).

The training DAG is the one run here: its tasks run in parallel (pretrain fans out), one writes
the PostgreSQL catalog (record_eval) and one reads it (report), and the whole run takes minutes.
The data DAG's Spark tasks are exercised by the dag.test() end-to-end test; `--mark-success-pattern`
is ignored under `--use-executor`, so it cannot be cut down the same way here.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.trainer.token_fixture import write_token_shards


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError(url)


@pytest.mark.slow
@pytest.mark.postgres
def test_training_dag_runs_on_local_executor_and_postgres(tmp_path):
    import psycopg2

    from pipeline.catalog import Catalog

    db = f"airflow_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {db}")
    port = _free_port()
    url = f"postgresql://postgres@127.0.0.1:5432/{db}"
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path / "airflow"),
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url.replace("postgresql://", "postgresql+psycopg2://"),
               AIRFLOW__CORE__EXECUTOR="LocalExecutor", AIRFLOW__CORE__PARALLELISM="2",
               AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
               PIPELINE_CATALOG_URL=url)
    airflow = str(Path(sys.executable).parent / "airflow")
    data_root = tmp_path / "data"
    tokens = write_token_shards(data_root / "pg" / "tokens")
    catalog = Catalog(url)
    catalog.init()
    catalog.start_run("pg", str(data_root), "{}")
    catalog.finish_run("pg", "succeeded")
    out = data_root / "pg" / "pretrain" / "t1"
    api = None
    try:
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
        api = subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_http(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=240)
        conf = {"tokens_dir": str(tokens), "out_dir": str(out), "data_root": str(data_root), "data_run_id": "pg",
                "steps": 10, "micro_batch_size": 4, "run_posttrain": False, "eval_variants": "fp32,int8",
                "eval_max_windows": 2}
        run = subprocess.run([airflow, "dags", "test", "llm_training", "--use-executor", "-c", json.dumps(conf)],
                             env=env, capture_output=True, text=True, timeout=1200)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        conn = psycopg2.connect(url)
        cur = conn.cursor()
        cur.execute("SELECT state FROM dag_run WHERE dag_id = 'llm_training'")
        assert cur.fetchone()[0] == "success"
        cur.execute("SELECT task_id, state FROM task_instance WHERE dag_id = 'llm_training'")
        states = dict(cur.fetchall())
        assert states["evaluate"] == states["report"] == "success" and states["sft"] == "skipped"
        cur.execute("SELECT variant FROM evaluations WHERE run_id = 'pg' ORDER BY variant")
        assert [r[0] for r in cur.fetchall()] == ["fp32", "int8"]
        conn.close()
        assert "int8" in (out / "report.html").read_text()
    finally:
        if api is not None:
            os.killpg(api.pid, signal.SIGTERM)
            api.wait(timeout=60)
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()
