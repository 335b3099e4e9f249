"""The run catalog: runs, stage outputs and stats in SQLite (default) or PostgreSQL (by URL).

The DDL and report queries live in `sql/` as plain SQL shared by both engines; queries use
`:name` parameters, translated here to each driver's style.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_PARAM = re.compile(r"(?<!:):([A-Za-z_]\w*)")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sql_text(name: str) -> str:
    """A named SQL file from `sql/` (e.g. 'catalog' or 'queries/runs')."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise UsageError(f"no SQL file {path}")
    return path.read_text()


def statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


class Catalog:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            self.kind = "sqlite"
        elif url.startswith(("postgresql://", "postgres://")):
            self.kind = "postgres"
        else:
            raise UsageError(f"catalog URL must start with sqlite:/// or postgresql://, got {url!r}")

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.kind == "sqlite":
            path = Path(self.url[len("sqlite:///"):])
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30)
        else:
            import psycopg2

            try:
                conn = psycopg2.connect(self.url, connect_timeout=10)
            except psycopg2.OperationalError as exc:  # a user error (host, password), not a crash
                reason = (str(exc).strip().splitlines() or ["connection failed"])[0]
                raise UsageError(f"catalog unreachable at {redact(self.url)}: {reason}") from None
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def _translate(self, sql: str) -> str:
        if self.kind == "sqlite":
            return sql
        return _PARAM.sub(r"%(\1)s", sql)

    def execute(self, conn, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        cur = conn.cursor()
        cur.execute(self._translate(sql), dict(params or {}))
        return cur

    def init(self) -> None:
        with self.connect() as conn:
            for stmt in statements(sql_text("catalog")):
                self.execute(conn, stmt)

    def query(self, name_or_sql: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list]:
        sql = name_or_sql if " " in name_or_sql else sql_text(f"queries/{name_or_sql}")
        with self.connect() as conn:
            cur = self.execute(conn, sql, params)
            cols = [d[0] for d in cur.description]
            return cols, [tuple(r) for r in cur.fetchall()]

    def start_run(self, run_id: str, data_root: str, config_json: str) -> None:
        with self.connect() as conn:
            self.execute(conn, """
                INSERT INTO runs (run_id, data_root, status, started_at, config_json)
                VALUES (:run_id, :data_root, 'running', :now, :config_json)
                ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL,
                    config_json = excluded.config_json
            """, {"run_id": run_id, "data_root": data_root, "now": now(), "config_json": config_json})

    def finish_run(self, run_id: str, status: str) -> None:
        with self.connect() as conn:
            self.execute(conn, "UPDATE runs SET status = :status, finished_at = :now WHERE run_id = :run_id",
                         {"run_id": run_id, "status": status, "now": now()})

    def start_stage(self, run_id: str, stage: str, path: str) -> None:
        with self.connect() as conn:
            self.execute(conn, """
                INSERT INTO stage_outputs (run_id, stage, path, status, started_at)
                VALUES (:run_id, :stage, :path, 'running', :now)
                ON CONFLICT (run_id, stage) DO UPDATE SET path = excluded.path, status = 'running',
                    started_at = excluded.started_at, finished_at = NULL, error = NULL,
                    rows_in = NULL, rows_out = NULL, bytes = NULL, seconds = NULL
            """, {"run_id": run_id, "stage": stage, "path": path, "now": now()})

    def mark_killed(self, is_gone: Callable[[str], bool]) -> list[tuple[str, str]]:
        """Mark 'running' stage rows whose attempt is gone as 'killed'; returns (run_id, stage) marked."""
        with self.connect() as conn:
            rows = self.execute(conn, "SELECT run_id, stage, path FROM stage_outputs WHERE status = 'running'")
            gone = [(r, s) for r, s, path in rows.fetchall() if is_gone(path)]
            for run_id, stage in gone:
                self.execute(conn, """
                    UPDATE stage_outputs SET status = 'killed', finished_at = :now,
                        error = 'the attempt ended without finishing (killed?); marked when the next one started'
                    WHERE run_id = :run_id AND stage = :stage AND status = 'running'
                """, {"run_id": run_id, "stage": stage, "now": now()})
        return gone

    def finish_stage(self, run_id: str, stage: str, *, status: str, rows_in: int | None = None,
                     rows_out: int | None = None, nbytes: int | None = None, seconds: float | None = None,
                     error: str | None = None, stats: Mapping[str, Any] | None = None) -> None:
        with self.connect() as conn:
            self.execute(conn, """
                UPDATE stage_outputs SET status = :status, rows_in = :rows_in, rows_out = :rows_out,
                    bytes = :bytes, seconds = :seconds, finished_at = :now, error = :error
                WHERE run_id = :run_id AND stage = :stage
            """, {"run_id": run_id, "stage": stage, "status": status, "rows_in": rows_in,
                  "rows_out": rows_out, "bytes": nbytes, "seconds": seconds, "now": now(), "error": error})
            self.execute(conn, "DELETE FROM stage_stats WHERE run_id = :run_id AND stage = :stage",
                         {"run_id": run_id, "stage": stage})
            for name, value in flatten_numbers(stats or {}).items():
                self.execute(conn, """
                    INSERT INTO stage_stats (run_id, stage, name, value) VALUES (:run_id, :stage, :name, :value)
                """, {"run_id": run_id, "stage": stage, "name": name, "value": value})

    EXPERIMENT_COLUMNS = ("experiment_id", "name", "kind", "data_run_id", "variant", "seed", "params", "tokens",
                          "flops", "loss", "predicted_loss", "heldout_bpb", "run_dir")

    def record_experiment(self, row: Mapping[str, Any]) -> None:
        """One trained model of the experiments DAG (sql/catalog.sql `experiments`); a rerun replaces it."""
        values = {c: row.get(c) for c in self.EXPERIMENT_COLUMNS}
        cols = ", ".join(self.EXPERIMENT_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.EXPERIMENT_COLUMNS[2:])
        with self.connect() as conn:
            self.execute(conn, f"""
                INSERT INTO experiments ({cols}, recorded_at)
                VALUES ({", ".join(":" + c for c in self.EXPERIMENT_COLUMNS)}, :now)
                ON CONFLICT (experiment_id, name) DO UPDATE SET {updates}, recorded_at = excluded.recorded_at
            """, {**values, "now": now()})


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def flatten_numbers(stats: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested stats dict as dotted names; non-numbers are left in _stats.json."""
    out: dict[str, float] = {}
    for key, value in stats.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_numbers(value, f"{name}."))
        elif isinstance(value, int | float):  # bool is an int: True counts as 1
            out[name] = float(value)
    return out


def format_table(cols: list[str], rows: list) -> str:
    cells = [[("" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
