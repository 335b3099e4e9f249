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
    after: tuple[str, ...] = ()  # upstream stages it needs without reading them (a trained model)
    raw_inputs: str = ""  # Jinja expression for raw file inputs (ingest stages)
    toggle: str = ""  # Param name that switches the stage off (passes input through)
    overrides: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (config key, Jinja)
    output: str = ""  # folder name under the run when not the stage's name (tokenize -> tokens)

    @property
    def folder(self) -> str:
        return self.output or self.stage


SAMPLE_DIR = REPO_ROOT / "pipeline" / "sample"
# Passages of the web sample that the demo treats as "evaluation data": decontamination must drop
# the pages that contain them, as it would drop a leaked benchmark.
DEMO_EVAL_PAGES = 3


def sample_inputs(data_root: str) -> dict[str, str]:
    """Paths of the bundled sample for each source; the web sample's WARC is generated once."""
    import hashlib
    import json
    import shutil

    from pipeline.sample.web import build_sample

    # Named by a hash of the generator's code, so a changed generator never reuses a stale sample.
    code = b"".join(p.read_bytes() for p in sorted((SAMPLE_DIR / "web").glob("*.py")))
    web = Path(data_root) / f"sample-web-{hashlib.sha1(code).hexdigest()[:8]}"
    if not (web / "warc" / "sample.warc.gz").exists():
        tmp = Path(data_root) / f"_tmp-sample-web-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        build_sample(tmp)
        shutil.rmtree(web, ignore_errors=True)
        os.replace(tmp, web)
    eval_path = web / "eval.jsonl"
    if not eval_path.exists():
        pages = [json.loads(line) for line in (web / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
        articles = [p for p in pages if p["kind"] == "article" and p["lang"] == "en"][:DEMO_EVAL_PAGES]
        eval_path.write_text("".join(json.dumps({"text": " ".join(p["paragraphs"])}) + "\n" for p in articles))
    return {
        "warc": str(web / "warc"),
        "eval": str(eval_path),
        "jsonl": str(SAMPLE_DIR / "docs.jsonl"),
        "arxiv": str(SAMPLE_DIR / "arxiv"),
        "arxiv_metadata": str(SAMPLE_DIR / "arxiv" / "arxiv-metadata.jsonl"),
        "github": str(SAMPLE_DIR / "github"),
        "books": str(SAMPLE_DIR / "books" / "mirror"),
    }


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
    path = final.get("path") or f"{data_root.rstrip('/')}/{run_id}/{final_stage}"
    return {"run_id": run_id, "path": path, "rows": final.get("rows_out")}
