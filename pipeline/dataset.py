"""Datasets on disk: atomic writes (`_tmp-*` then rename), `_SUCCESS`, `_stats.json`.

A stage writes everything (main parts and side outputs such as `_rejected/`) into a sibling
temporary directory and renames it into place only when complete, so a crash never leaves a
partial dataset at OUT and a rerun replaces rather than appends. Side outputs live in
`OUT/_<name>/`: Spark's readers skip names starting with `_`, so they never mix into the main rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# The commit protocol (temp dir, renames, recovery, writer lock) lives in pipeline/commit.py.
from pipeline.commit import SUCCESS, TMP_PREFIX, atomic_directory, tmp_path  # noqa: F401 (re-exported)
from pipeline.errors import UsageError
from pipeline.storage import filesystem

STATS = "_stats.json"


@dataclass
class WriteResult:
    path: str
    rows_out: int
    bytes: int
    side_rows: dict[str, int]


def is_complete(path: str, spark=None) -> bool:
    fs = filesystem(path, spark)
    return fs.exists(f"{path.rstrip('/')}/{SUCCESS}")


def require_dataset(path: str, spark=None) -> None:
    """A stage input must exist and be complete; say which, in one line, when it is not."""
    fs = filesystem(path, spark)
    if not fs.exists(path):
        raise UsageError(f"input not found: {path}")
    if not fs.exists(f"{path.rstrip('/')}/{SUCCESS}"):
        raise UsageError(f"input is incomplete (no {SUCCESS}): {path}; rerun the stage that writes it")


def read_stats(path: str, spark=None) -> dict:
    fs = filesystem(path, spark)
    return json.loads(fs.read_text(f"{path.rstrip('/')}/{STATS}"))


def write_stats(out_or_tmp: str, stats: dict, spark=None) -> None:
    fs = filesystem(out_or_tmp, spark)
    fs.write_text(f"{out_or_tmp}/{STATS}", json.dumps(stats, indent=2, sort_keys=True, default=str))


def write_dataset(spark, df, out: str, stats: dict, side_outputs: dict | None = None) -> WriteResult:
    """Write `df` (and side outputs) to `out` atomically; `stats` go into `_stats.json`."""
    fs = filesystem(out, spark)
    with atomic_directory(out, spark) as tmp:
        if df is not None:
            df.write.mode("overwrite").parquet(tmp)
        else:
            fs.mkdirs(tmp)
        side_rows = {}
        for name, side_df in (side_outputs or {}).items():
            side_path = f"{tmp}/_{name}"
            side_df.write.mode("overwrite").parquet(side_path)
            side_rows[name] = spark.read.parquet(side_path).count()
        rows_out = spark.read.parquet(tmp).count() if df is not None else 0
        write_stats(tmp, {**stats, "rows_out": rows_out, "side_outputs": side_rows}, spark)
        nbytes = fs.size(tmp)
    return WriteResult(path=out, rows_out=rows_out, bytes=nbytes, side_rows=side_rows)
