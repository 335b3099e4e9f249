"""Filesystem operations on local paths and Hadoop URIs (s3a://, hdfs://, file://).

Local paths use `os`; anything with a scheme goes through Hadoop's FileSystem in the Spark JVM,
so the same atomic-commit logic works on a laptop and on a cluster's object store.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def local_path(path: str) -> Path:
    return Path(path[len("file://"):] if path.startswith("file://") else path)


class LocalFS:
    def exists(self, path: str) -> bool:
        return local_path(path).exists()

    def rename(self, src: str, dst: str) -> None:
        os.replace(local_path(src), local_path(dst))

    def delete(self, path: str) -> None:
        p = local_path(path)
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists():
            p.unlink()

    def write_text(self, path: str, text: str) -> None:
        # Write-then-rename so a reader never sees half a file.
        p = local_path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, p)

    def read_text(self, path: str) -> str:
        return local_path(path).read_text()

    def list_names(self, path: str) -> list[str]:
        p = local_path(path)
        return sorted(os.listdir(p)) if p.is_dir() else []

    def size(self, path: str) -> int:
        p = local_path(path)
        if p.is_file():
            return p.stat().st_size
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())

    def mkdirs(self, path: str) -> None:
        local_path(path).mkdir(parents=True, exist_ok=True)


class HadoopFS:
    """Hadoop FileSystem through py4j; needs a live SparkSession."""

    def __init__(self, spark):
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, path: str):
        p = self._jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self._conf), p

    def exists(self, path: str) -> bool:
        fs, p = self._fs(path)
        return fs.exists(p)

    def rename(self, src: str, dst: str) -> None:
        fs, s = self._fs(src)
        _, d = self._fs(dst)
        if not fs.rename(s, d):
            raise OSError(f"rename {src} -> {dst} failed")

    def delete(self, path: str) -> None:
        fs, p = self._fs(path)
        fs.delete(p, True)

    def write_text(self, path: str, text: str) -> None:
        fs, p = self._fs(path)
        out = fs.create(p, True)
        out.write(bytearray(text.encode()))
        out.close()

    def read_text(self, path: str) -> str:
        fs, p = self._fs(path)
        stream = fs.open(p)
        reader = self._jvm.java.io.BufferedReader(self._jvm.java.io.InputStreamReader(stream, "UTF-8"))
        lines = []
        while (line := reader.readLine()) is not None:
            lines.append(line)
        reader.close()
        return "\n".join(lines)

    def list_names(self, path: str) -> list[str]:
        fs, p = self._fs(path)
        if not fs.exists(p):
            return []
        return sorted(s.getPath().getName() for s in fs.listStatus(p))

    def size(self, path: str) -> int:
        fs, p = self._fs(path)
        return int(fs.getContentSummary(p).getLength())

    def mkdirs(self, path: str) -> None:
        fs, p = self._fs(path)
        fs.mkdirs(p)


def filesystem(path: str, spark=None):
    if is_local(path):
        return LocalFS()
    if spark is None:
        raise ValueError(f"{path}: a Hadoop URI needs a SparkSession")
    return HadoopFS(spark)


def read_json(fs, path: str) -> dict:
    return json.loads(fs.read_text(path))
