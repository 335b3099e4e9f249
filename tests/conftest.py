"""Shared fixtures: one local[2] SparkSession for the whole test session, a temporary data root."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
# Tests never reach the network: offline model hubs, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")


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
