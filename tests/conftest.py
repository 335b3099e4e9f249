"""Shared fixtures: one local[2] SparkSession for the whole test session, a temporary data root."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.llm_engine"]  # the real vLLM engine, once per session: fixture `vllm_server`

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
# Tests never reach the network: offline model hubs, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
# Airflow reads its configuration once, at first import: set it before any test imports airflow.
# One metadata DB for the whole session (SQLite), this repo's dags/, spark_default embedded.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW_CONN_SPARK_DEFAULT"] = '{"conn_type": "spark", "host": "local[2]"}'
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # spark-submit


@pytest.fixture(scope="session")
def airflow_db():
    """`airflow db migrate` once per session on the session's SQLite metadata DB."""
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], check=True,
                   capture_output=True, timeout=600)
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session")
def spark():
    from pipeline.config import SparkConfig
    from pipeline.spark import get_spark

    session = get_spark(SparkConfig(master="local[2]", app_name="tests", shuffle_partitions=4,
                                    driver_memory="1g"))
    yield session
    session.stop()


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A fresh data root with its own SQLite catalog (never the developer's ./data)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("PIPELINE_CATALOG_URL", f"sqlite:///{root / 'catalog.sqlite'}")
    return root


@pytest.fixture
def run_stage_in(spark, data_root):
    """Run a stage in-process on the shared SparkSession: run_stage_in(name, inputs, out, **overrides)."""
    from pipeline.config import load_config
    from pipeline.runner import run_stage

    def _run(name: str, inputs: list[str], output, overrides: list[str] | None = None, skip: bool = False):
        cfg = load_config(None, [f"run.data_root={data_root}", *(overrides or [])])
        return run_stage(name, [str(p) for p in inputs], str(output), cfg, skip=skip, spark=spark)

    return _run
