"""Write small document datasets (core schema + optional annotation columns) for stage tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def write_documents(spark, path: Path, rows: list[dict]) -> Path:
    """Rows need id/text; other core columns get defaults. Adds `_SUCCESS` like a finished stage."""
    from pipeline.schema import CORE_COLUMNS

    base = {"source": "web", "url": None, "title": None, "lang": "en", "lang_score": 1.0,
            "fetched_at": None, "metadata": None}
    full = [{**base, **r} for r in rows]
    extra = sorted({k for r in full for k in r} - set(CORE_COLUMNS))
    arrays, fields = [], []
    for name, (typ, _) in CORE_COLUMNS.items():
        arrays.append(pa.array([r.get(name) for r in full], type=typ))
        fields.append(pa.field(name, typ))
    for name in extra:
        arr = pa.array([r.get(name) for r in full])
        arrays.append(arr)
        fields.append(pa.field(name, arr.type))
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path / "part-00000.parquet")
    (path / "_SUCCESS").touch()
    return path
