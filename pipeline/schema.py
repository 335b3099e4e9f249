"""The document schema every stage reads and writes (ARCHITECTURE.md, "The document schema").

Core columns are present from `extract` on; annotation stages add typed columns named by
their stage (`rule_*`, `quality_*`, `domain`, `dup_*`, ...), which validation allows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyarrow as pa

from pipeline.errors import SchemaMismatch

SOURCES = ("web", "arxiv", "github", "books", "synthetic")

# name -> (arrow type, nullable)
CORE_COLUMNS: dict[str, tuple[pa.DataType, bool]] = {
    "id": (pa.string(), False),
    "text": (pa.string(), False),
    "source": (pa.string(), False),
    "url": (pa.string(), True),
    "title": (pa.string(), True),
    "lang": (pa.string(), True),
    "lang_score": (pa.float64(), True),
    "fetched_at": (pa.string(), True),
    "metadata": (pa.string(), True),
}

DOCUMENT_SCHEMA = pa.schema([pa.field(n, t, nullable=null) for n, (t, null) in CORE_COLUMNS.items()])


def document_id(source: str, locator: str) -> str:
    """Stable id: the same source + url/path always gives the same id (sha1, 16 hex chars)."""
    return hashlib.sha1(f"{source}\x00{locator}".encode()).hexdigest()[:16]


def spark_schema():
    """The core schema as a Spark StructType (imported lazily: pure code must not need Spark)."""
    from pyspark.sql import types as T

    mapping = {pa.string(): T.StringType(), pa.float64(): T.DoubleType()}
    return T.StructType(
        [T.StructField(n, mapping[t], nullable=null) for n, (t, null) in CORE_COLUMNS.items()]
    )


def missing_or_mistyped(columns: Iterable[tuple[str, str]]) -> list[str]:
    """Problems of a (name, simple type string) column list against the core schema.

    Type strings are Spark's `simpleString()` names (`string`, `double`).
    """
    spark_names = {pa.string(): "string", pa.float64(): "double"}
    have = dict(columns)
    problems = []
    for name, (arrow_type, _) in CORE_COLUMNS.items():
        if name not in have:
            problems.append(f"missing column '{name}'")
        elif have[name] != spark_names[arrow_type]:
            problems.append(f"column '{name}' is {have[name]}, expected {spark_names[arrow_type]}")
    return problems


def validate_columns(columns: Iterable[tuple[str, str]], where: str) -> None:
    problems = missing_or_mistyped(columns)
    if problems:
        raise SchemaMismatch(f"{where}: not a document dataset ({'; '.join(problems)})")
