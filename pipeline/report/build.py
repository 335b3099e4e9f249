"""Build one run's report file: gather -> render -> atomic write."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.report.gather import gather
from pipeline.report.html import render


def build_report(catalog, run_id: str, data_root: str, out: str | Path, training_dir: str | None = None,
                 eval_report: str | None = None) -> Path:
    """Write the report of `run_id` to `out` (atomically: a reader never sees half a page)."""
    data = gather(catalog, run_id, data_root, training_dir=training_dir, eval_report=eval_report)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(render(data), encoding="utf-8")
    os.replace(tmp, out)
    return out
