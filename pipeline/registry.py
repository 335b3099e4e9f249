"""Stage discovery: every `pipeline/jobs/<stage>.py` defining `STAGE` is a stage.

Adding a stage is adding one file; nothing central to edit. Names use dashes (`dedup-minhash`
is `jobs/dedup_minhash.py`). Listing reads docstrings without importing, so `--help` stays fast.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from pipeline.errors import UsageError

JOBS_DIR = Path(__file__).resolve().parent / "jobs"


def stage_names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in JOBS_DIR.glob("*.py") if not p.stem.startswith("_"))


def job_path(name: str) -> Path:
    """The file `spark-submit` runs for a stage."""
    path = JOBS_DIR / f"{name.replace('-', '_')}.py"
    if not path.is_file():
        raise UsageError(f"unknown stage '{name}'; known stages: {', '.join(stage_names())}")
    return path


def describe(name: str) -> str:
    doc = ast.get_docstring(ast.parse(job_path(name).read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def load(name: str):
    job_path(name)
    module = importlib.import_module(f"pipeline.jobs.{name.replace('-', '_')}")
    stage = getattr(module, "STAGE", None)
    if stage is None:
        raise UsageError(f"pipeline/jobs/{name.replace('-', '_')}.py defines no STAGE")
    return stage
