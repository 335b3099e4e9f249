"""Dedup test fixtures: document datasets written with a chosen number of partitions."""

from __future__ import annotations

import pytest


@pytest.fixture
def write_docs(spark):
    """write_docs(path, rows, partitions=2): a complete document dataset (with _SUCCESS) at path."""
    from pipeline.schema import spark_schema

    def _write(path, rows: list[dict], partitions: int = 2) -> str:
        df = spark.createDataFrame(rows, spark_schema()).repartition(partitions)
        df.write.mode("overwrite").parquet(str(path))
        (path / "_SUCCESS").touch()
        return str(path)

    return _write
