"""Model files as stage artifacts: written into a stage's output dir, shipped to Spark executors.

The train stages write `OUT/model.bin` (+ `metrics.json`) on the driver; scoring stages name that
path in config and ship it with `SparkContext.addFile`, so executors on a cluster read a local
copy (`SparkFiles.get`) whether the path is local or `s3a://`/`hdfs://`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

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
    """Make a model file available to executors; returns the name to pass to `load_shipped`.

    Spark refuses a second `addFile` of the same name with other contents (two stages in one
    session, or a retrained model), so the shipped copy is named by its content hash.
    """
    if not model_path:
        raise UsageError("no model configured: set <stage>.model to the train stage's OUT/model.bin")
    if not filesystem(model_path, spark).exists(model_path):
        raise UsageError(f"model not found: {model_path} (run the matching train stage first)")
    tmp = tempfile.mkdtemp(prefix="model-")
    local = os.path.join(tmp, "model.bin")
    if is_local(model_path):
        shutil.copyfile(local_path(model_path), local)
    else:
        jvm = spark._jvm
        src = jvm.org.apache.hadoop.fs.Path(model_path)
        src.getFileSystem(spark._jsc.hadoopConfiguration()).copyToLocalFile(src, jvm.org.apache.hadoop.fs.Path(local))
    digest = hashlib.sha1()
    with open(local, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    name = f"model-{digest.hexdigest()[:16]}.bin"
    os.rename(local, os.path.join(tmp, name))
    spark.sparkContext.addFile(os.path.join(tmp, name))
    return name


def load_shipped(name: str):
    """On an executor: the fastText model shipped under `name` (cached per worker process)."""
    from pyspark import SparkFiles

    path = SparkFiles.get(name)
    if name not in _MODELS:  # the name is the content hash: a cached model is never stale
        import fasttext

        _MODELS[name] = fasttext.load_model(path)
    return _MODELS[name]
