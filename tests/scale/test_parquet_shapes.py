"""Any valid Parquet of documents reads (issue 21): one big row group of long texts, many small files, one
file of many row groups. The thresholds are scaled down so small files take the paths big ones take."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.parquet_input import (
    BATCH_SIZE_KEY,
    Layout,
    needs_spreading,
    parquet_layout,
    read_parquet_dataset,
    reader_batch_size,
)
from pipeline.schema import DOCUMENT_SCHEMA


def _table(n: int, words: int, seed: int = 0) -> pa.Table:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)]
    cols = {name: [None] * n for name in DOCUMENT_SCHEMA.names}
    cols.update(id=[f"d{i:06d}" for i in range(n)], source=["web"] * n,
                text=[" ".join(rng.choices(vocab, k=words)) + f" end{i}" for i in range(n)])
    return pa.table(cols, schema=DOCUMENT_SCHEMA)


@pytest.fixture
def batch_conf(spark):
    before = spark.conf.get(BATCH_SIZE_KEY)
    yield
    spark.conf.set(BATCH_SIZE_KEY, before)


def _checksum(df) -> tuple[int, int]:
    from pyspark.sql import functions as F

    r = df.agg(F.count("*").alias("n"), F.sum(F.length("text")).alias("chars")).first()
    return r["n"], r["chars"]


def test_layout_rules_are_pure():
    long_rows = Layout(files=1, rows=4096, bytes=4096 * 16_000, row_groups=1, largest_row_group=4096 * 16_000)
    assert reader_batch_size(long_rows) == (8 << 20) // 16_000  # the 67 MB batch of issue 21 becomes ~8 MB
    assert reader_batch_size(Layout(1, 10, 1000, 1, 1000)) == 4096  # short rows keep Spark's default
    assert reader_batch_size(Layout(1, 1, 1 << 30, 1, 1 << 30)) == 16  # floor: one 1 GB row still reads
    assert needs_spreading(long_rows, parallelism=2) == 0  # 62.5 MiB: one core's work
    huge = Layout(files=1, rows=4096, bytes=1 << 30, row_groups=1, largest_row_group=1 << 30)
    assert needs_spreading(huge, parallelism=2) == 17  # 1 GiB in 64 MiB pieces
    assert needs_spreading(long_rows, parallelism=2, split_bytes=1 << 20) == 63  # ~64 MB in 1 MB pieces
    assert needs_spreading(Layout(1, 100, 1000, 1, 1000), parallelism=2) == 0  # small: nothing to spread
    assert needs_spreading(Layout(8, 100, 1 << 30, 8, 1 << 27), parallelism=2) == 0  # enough row groups


def test_one_big_row_group_of_long_texts(spark, tmp_path, batch_conf):
    table = _table(200, 2500)  # ~3 MB of text in pyarrow's default: a single row group
    path = tmp_path / "one"
    path.mkdir()
    pq.write_table(table, path / "part-0.parquet")
    layout = parquet_layout(str(path))
    assert layout.row_groups == 1 and layout.rows == 200
    spark.conf.set(BATCH_SIZE_KEY, "4096")
    df = read_parquet_dataset(spark, str(path), target_batch_bytes=64 << 10, split_bytes=512 << 10)
    assert int(spark.conf.get(BATCH_SIZE_KEY)) == 16  # ~16 KB rows: the floor
    assert df.rdd.getNumPartitions() >= 2  # spread over the cores
    assert _checksum(df) == (200, sum(len(t) for t in table.column("text").to_pylist()))
    got = {r["id"]: r["text"] for r in df.select("id", "text").collect()}
    assert got == dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))


def test_many_small_files(spark, tmp_path, batch_conf):
    path = tmp_path / "many"
    path.mkdir()
    table = _table(240, 30, seed=1)
    for i in range(60):
        pq.write_table(table.slice(i * 4, 4), path / f"part-{i:05d}.parquet")
    (path / "_SUCCESS").touch()
    df = read_parquet_dataset(spark, str(path))
    assert parquet_layout(str(path)).files == 60
    assert _checksum(df) == (240, sum(len(t) for t in table.column("text").to_pylist()))


def test_one_file_of_many_row_groups_with_a_tiny_batch(spark, tmp_path, batch_conf):
    path = tmp_path / "groups"
    path.mkdir()
    table = _table(900, 400, seed=2)
    pq.write_table(table, path / "part-0.parquet", row_group_size=50)
    spark.conf.set(BATCH_SIZE_KEY, "7")  # batches that end mid row group and mid page
    df = read_parquet_dataset(spark, str(path))
    assert parquet_layout(str(path)).row_groups == 18
    assert _checksum(df) == (900, sum(len(t) for t in table.column("text").to_pylist()))
    assert df.filter("text LIKE '% end899'").count() == 1
