"""Records set aside: reasons counted in `_stats.json`, bounded raw excerpts kept in `OUT/_rejected/`.

Bad input is data, not a crash (ARCHITECTURE.md): a stage catches a failure per record, names a
reason, keeps a bounded excerpt of the raw input and carries on with the rest. The helpers here
are what ingest and annotate stages share for that: the excerpt bound, reason names for
unexpected exceptions, the input checks every document stage gets from `read_documents`, and a
per-record guard for `mapInPandas` functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pipeline.schema import CORE_COLUMNS

# Characters kept of a rejected record: enough to see what was wrong with it, bounded so one
# hostile 1 GiB line cannot make the side output as large as the input.
RAW_LIMIT = 4096
REASON = "reject_reason"
RAW = "raw"

GUARD_REASON, GUARD_RAW = "_guard_reason", "_guard_raw"  # internal: renamed by split_guarded

# Core columns a document cannot lack: the ones pipeline/schema.py marks non-nullable (id, text, source).
REQUIRED = tuple(name for name, (_, nullable) in CORE_COLUMNS.items() if not nullable)
INPUT_REASONS = (*(f"null_{c}" for c in REQUIRED), "invalid_utf8")  # what invalid_document_reason says


def raw_excerpt(value: Any) -> str | None:
    """The first RAW_LIMIT characters of a raw record, always writable as UTF-8."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value[: RAW_LIMIT * 4]).decode("utf-8", "backslashreplace")
    else:
        text = str(value)
    # Lone surrogates (from a JSON "\ud800" escape) cannot be encoded; Arrow would refuse the row.
    return text[:RAW_LIMIT].encode("utf-8", "backslashreplace").decode("utf-8")


def error_reason(exc: BaseException) -> str:
    """A reason for an exception nobody planned for: counted by type, never raised."""
    return f"error:{type(exc).__name__}"


def add_counts(stats: dict, key: str, counts: dict[str, int]) -> dict:
    """Merge `counts` into `stats[key]` (a reason -> count dict the report reads as `key.<reason>`)."""
    if counts:
        merged = dict(stats.get(key) or {})
        for reason, n in counts.items():
            merged[reason] = merged.get(reason, 0) + int(n)
        stats[key] = merged
    return stats


def invalid_document_reason(columns: list[str], required: tuple[str, ...] = REQUIRED):
    """A Spark column: why a document row cannot be processed (null required field, bad UTF-8), or null.

    Parquet written by another tool can be schema-valid and still hold nulls in required columns
    or strings that are not UTF-8; the latter crash Arrow before any stage code runs.
    """
    from pyspark.sql import functions as F

    reason = F.lit(None).cast("string")
    checks = [(F.col(c).isNull(), f"null_{c}") for c in required if c in columns]
    checks += [(~F.coalesce(F.expr(f"is_valid_utf8(`{c}`)"), F.lit(True)), "invalid_utf8") for c in columns]
    for cond, name in reversed(checks):
        reason = F.when(cond, F.lit(name)).otherwise(reason)
    return reason


def string_columns(df) -> list[str]:
    return [f.name for f in df.schema.fields if f.dataType.simpleString() == "string"]


GUARD_SCHEMA = f"`{GUARD_REASON}` string, `{GUARD_RAW}` string"


def guard_batches(fn: Callable, out_columns: list[str], setup: Callable | None = None) -> Callable[[Iterator], Iterator]:
    """Wrap a `mapInPandas` function so one failing record is rejected, not the whole job.

    `fn(batch, resource)` maps a pandas batch to a batch with `out_columns`; `resource` is what
    `setup()` returns, once per partition and outside the guard (a model that fails to load is a
    configuration error, not a bad record). When a batch raises, its rows are retried one by one;
    each row that still raises comes back with a reason (`error:<Exception>`), a bounded excerpt
    of its text, and its other columns as read (added columns null). Append GUARD_SCHEMA to the
    stage's output schema and pass the result to `split_guarded`.
    """
    import pandas as pd

    def run(batches):
        resource = setup() if setup is not None else None
        for pdf in batches:
            try:
                yield _with_reason(fn(pdf, resource), None, None)
                continue
            except Exception:  # noqa: BLE001 - retried per row below to find the bad record(s)
                pass
            parts = []
            for i in range(len(pdf)):
                row = pdf.iloc[i:i + 1].reset_index(drop=True)
                try:
                    parts.append(_with_reason(fn(row, resource), None, None))
                except Exception as exc:  # noqa: BLE001 - the record is set aside, the job goes on
                    bad = pd.DataFrame({c: [row[c].iloc[0] if c in row and c != "text" else None]
                                        for c in out_columns}).astype(object)
                    raw = row["text"].iloc[0] if "text" in row else None
                    parts.append(_with_reason(bad, error_reason(exc), raw_excerpt(raw)))
            if parts:
                yield pd.concat(parts, ignore_index=True)

    return run


def _with_reason(frame, reason: str | None, raw: str | None):
    frame = frame.copy()
    frame[GUARD_REASON] = reason
    frame[GUARD_RAW] = raw
    frame[GUARD_REASON] = frame[GUARD_REASON].astype(object)
    frame[GUARD_RAW] = frame[GUARD_RAW].astype(object)
    return frame


def split_guarded(out) -> tuple[Any, Any, dict[str, int]]:
    """(documents, rejected side output, reason counts) of a guarded `mapInPandas` result (cache it)."""
    from pyspark.sql import functions as F

    rejected = out.filter(F.col(GUARD_REASON).isNotNull())
    counts = {r[GUARD_REASON]: int(r["count"]) for r in rejected.groupBy(GUARD_REASON).count().collect()}
    keep = [c for c in ("id", "url", "source") if c in out.columns]
    return (out.filter(F.col(GUARD_REASON).isNull()).drop(GUARD_REASON, GUARD_RAW),
            rejected.select(*keep, F.col(GUARD_REASON).alias(REASON), F.col(GUARD_RAW).alias(RAW)), counts)
