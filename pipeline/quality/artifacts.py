"""Model files as stage artifacts: written into a stage's output dir, shipped to Spark executors.

The train stages write `OUT/model.bin` (+ `metrics.json`) on the driver; scoring stages name that
path in config and ship it with `SparkContext.addFile`, so executors on a cluster read a local
copy (`SparkFiles.get`) whether the path is local or `s3a://`/`hdfs://`.
"""

from __future__ import annotations

import json
import os
import shutil

from pipeline.errors import UsageError
from pipeline.storage import filesystem, is_local, local_path

_MODELS: dict[str, object] = {}  # per Python worker: load each model once, not once per batch


def put_file(spark, local: str, dest: str) -> None:
    """Copy a local file to `dest` (a local path or any Hadoop URI)."""
    if is_local(dest):
        target = local_path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)
        return
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(dest)
    fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
    fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(local), path)


def write_json(spark, dest: str, data: dict) -> None:
    filesystem(dest, spark).write_text(dest, json.dumps(data, indent=2, sort_keys=True))


def ship_model(spark, model_path: str) -> str:
    """Make a model file available to executors; returns the name to pass to `load_shipped`."""
    if not model_path:
        raise UsageError("no model configured: set <stage>.model to the train stage's OUT/model.bin")
    if not filesystem(model_path, spark).exists(model_path):
        raise UsageError(f"model not found: {model_path} (run the matching train stage first)")
    spark.sparkContext.addFile(model_path)
    return os.path.basename(model_path.rstrip("/"))


def load_shipped(name: str):
    """On an executor: the fastText model shipped under `name` (cached per worker process)."""
    from pyspark import SparkFiles

    path = SparkFiles.get(name)
    key = f"{path}:{os.path.getmtime(path)}"
    if key not in _MODELS:
        import fasttext

        _MODELS[key] = fasttext.load_model(path)
    return _MODELS[key]
