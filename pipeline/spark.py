"""One place that builds the SparkSession, so every stage runs the same locally and on a cluster."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from pipeline.config import SparkConfig


def launched_by_spark_submit() -> bool:
    # spark-submit starts the Python driver with a gateway already running and --master set.
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(cfg: SparkConfig | None = None):
    from pyspark.sql import SparkSession

    cfg = cfg or SparkConfig()
    # Workers must use this interpreter (the venv), or they fail on `import pandas`.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(cfg.app_name)
    if not launched_by_spark_submit():
        builder = builder.master(os.environ.get("SPARK_MASTER") or cfg.master)
        builder = builder.config("spark.driver.memory", cfg.driver_memory)
    builder = (
        builder.config("spark.sql.shuffle.partitions", str(cfg.shuffle_partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
    )
    for key, value in cfg.extra.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    _quiet_ignored_path_warning(spark)
    return spark


def _quiet_ignored_path_warning(spark) -> None:
    # Reading our own `_tmp-*` / `_rejected` directories directly is intended; Spark warns
    # that such names are "ignored" (they are not, when named explicitly).
    try:
        jvm = spark.sparkContext._jvm
        level = jvm.org.apache.logging.log4j.Level.ERROR
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.execution.datasources.DataSource", level)
    except Exception:  # logging is cosmetic; never fail a stage over it
        pass


@contextmanager
def job_step(spark, stage: str, step: str):
    """Name the Spark jobs run inside this block "<stage>: <step>" in the Spark UI (Jobs, SQL tabs).

    The runner sets the job group per stage; this names the steps within it, then restores the
    previous description, so nested steps read naturally and a failure leaves no stale name.
    """
    sc = spark.sparkContext
    previous = sc.getLocalProperty("spark.job.description")
    sc.setJobDescription(f"{stage}: {step}")
    try:
        yield
    finally:
        sc.setJobDescription(previous)
