"""Plain helpers the DAG files use to name things; no Airflow imports (pipeline/ never imports it)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_root() -> str:
    return os.environ.get("PIPELINE_DATA_ROOT") or str(REPO_ROOT / "data")


def safe_run_id(run_id: str) -> str:
    """Airflow run ids (`manual__2026-11-27T05:00:00+00:00`) as a path segment valid on any FS."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip("-") or "run"


@dataclass(frozen=True)
class StageStep:
    """One stage task of the data DAG: the stage, the upstream stages it reads, its toggle."""

    stage: str
    reads: tuple[str, ...] = ()
    raw_inputs: str = ""  # Jinja expression for raw file inputs (ingest stages)
    toggle: str = ""  # Param name that switches the stage off (passes input through)
    overrides: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (config key, Jinja)


def finish_run(data_root: str, run_id: str, final_stage: str) -> dict:
    """Mark a run succeeded in the catalog, print its funnel, and say where the result is."""
    from pipeline.catalog import Catalog, format_table
    from pipeline.config import load_config

    cfg = load_config(None, [f"run.data_root={data_root}"])
    catalog = Catalog(cfg.catalog_url())
    catalog.init()
    catalog.finish_run(run_id, "succeeded")
    cols, rows = catalog.query("stages", {"run_id": run_id})
    print(format_table(cols, rows), flush=True)
    final = dict(zip(cols, next((r for r in rows if r[0] == final_stage), [None] * len(cols)), strict=True))
    return {"run_id": run_id, "path": f"{data_root.rstrip('/')}/{run_id}/{final_stage}",
            "rows": final.get("rows_out")}
