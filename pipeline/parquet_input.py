"""Reading a Parquet dataset given as a stage input, with a broken one reported in one line (exit 2).

Spark reports a dataset holding only `_SUCCESS`, or a part file that is not Parquet, with a JVM
stack trace (UNABLE_TO_INFER_SCHEMA, CANNOT_READ_FILE_FOOTER), and for a bad part it may do so
only once a task reaches that file. A look at each local part's magic bytes is cheap and says
which file is wrong.
"""

from __future__ import annotations

import os

from pipeline.errors import UsageError
from pipeline.storage import is_local, local_path

PARQUET_MAGIC = b"PAR1"  # the first and last four bytes of every Parquet file (format spec)


def parquet_parts_problem(path: str) -> str | None:
    """Why a local dataset directory cannot be read as Parquet (no part files, a non-Parquet part), or None."""
    root = local_path(path)
    if not root.is_dir():
        return None
    parts = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Spark skips `_*` and `.*` names (side outputs, markers, checksums): so does this check.
        dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
        parts += [os.path.join(dirpath, f) for f in filenames if not f.startswith(("_", "."))]
    if not parts:
        return f"{path} holds no Parquet part files (only {', '.join(sorted(os.listdir(root))) or 'nothing'})"
    for part in sorted(parts):
        size = os.path.getsize(part)
        with open(part, "rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
        if size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
            return f"{part} is not a Parquet file"
    return None


def read_parquet_dataset(spark, path: str):
    """`spark.read.parquet(path)`; a dataset that is not Parquet raises a UsageError naming it."""
    problem = parquet_parts_problem(path) if is_local(path) else None
    if problem:
        raise UsageError(f"input is not a Parquet dataset: {problem}")
    try:
        return spark.read.parquet(path)
    except Exception as exc:  # AnalysisException, Py4JJavaError: one line, which input
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UsageError(f"input is not a readable Parquet dataset: {path} ({first})") from exc
