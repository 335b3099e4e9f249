"""An MCP server over the pipeline: runs, funnels, stats, corpus search, DAG triggers, evaluations.

    python -m pipeline.apps.mcp_server                                  # stdio (an agent starts it)
    python -m pipeline.apps.mcp_server --transport http --port 8765     # streamable HTTP on 127.0.0.1

It reads the catalog (config `catalog.url` / $PIPELINE_CATALOG_URL, else <data_root>/catalog.sqlite),
each run's files under its data root, and talks to Airflow's REST API at $AIRFLOW_API_URL with the
user's $AIRFLOW_USERNAME / $AIRFLOW_PASSWORD. Bad input is a tool error the client shows (an
unknown run, Params a DAG refuses, Airflow down), never a dead server.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from pipeline.apps.airflow_api import AirflowClient, AirflowConfig, AirflowError
from pipeline.catalog import Catalog
from pipeline.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
DAGS = {"data": "llm_data_pipeline", "training": "llm_training"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass
class ServerConfig:
    catalog_url: str
    data_root: str
    airflow: AirflowConfig = field(default_factory=AirflowConfig.from_env)


def _rows(cols: list[str], rows: list) -> list[dict[str, Any]]:
    return [dict(zip(cols, r, strict=True)) for r in rows]


class PipelineTools:
    """The tools' logic, free of MCP: every user error is a ToolError with one line."""

    def __init__(self, cfg: ServerConfig):
        self.cfg = cfg
        self.catalog = Catalog(cfg.catalog_url)
        self.airflow = AirflowClient(cfg.airflow)

    def _query(self, name: str, params: dict | None = None) -> list[dict[str, Any]]:
        try:
            self.catalog.init()
            return _rows(*self.catalog.query(name, params))
        except UsageError as e:
            raise ToolError(str(e)) from None

    def run_row(self, run_id: str) -> dict[str, Any]:
        if not _SAFE_ID.match(run_id or ""):
            raise ToolError(f"not a run id: {run_id!r}")
        found = self._query("SELECT run_id, status, data_root FROM runs WHERE run_id = :run_id", {"run_id": run_id})
        if not found:
            known = [r["run_id"] for r in self._query("runs")][:20]
            raise ToolError(f"unknown run {run_id!r}; runs in the catalog: {', '.join(known) or 'none'}")
        return found[0]

    def run_dir(self, run_id: str) -> Path:
        return Path(self.run_row(run_id)["data_root"] or self.cfg.data_root) / run_id

    def list_runs(self) -> list[dict[str, Any]]:
        return self._query("runs")

    def run_funnel(self, run_id: str) -> dict[str, Any]:
        run = self.run_row(run_id)
        return {"run_id": run_id, "status": run["status"],
                "stages": self._query("report_funnel", {"run_id": run_id}),
                "drop_reasons": self._query("report_drop_reasons", {"run_id": run_id})}

    def stage_stats(self, run_id: str, stage: str) -> dict[str, Any]:
        self.run_row(run_id)
        stages = [r["stage"] for r in self._query("stages", {"run_id": run_id})]
        if stage not in stages:
            raise ToolError(f"run {run_id!r} has no stage {stage!r}; its stages: {', '.join(stages) or 'none'}")
        stats = self._query("report_stage_stats", {"run_id": run_id, "stage": stage})
        return {"run_id": run_id, "stage": stage, "stats": {r["name"]: r["value"] for r in stats}}

    def search_documents(self, run_id: str, query: str, k: int = 5, mode: str = "hybrid") -> dict[str, Any]:
        from retrieval.index import IndexMissing, load_index

        if not 1 <= k <= 50:
            raise ToolError(f"k must be between 1 and 50, got {k}")
        if mode not in ("hybrid", "dense", "bm25"):
            raise ToolError(f"mode must be hybrid, dense or bm25, got {mode!r}")
        path = self.run_dir(run_id) / "index"
        try:
            hits = load_index(path).search(query, k=k, mode=mode)
        except IndexMissing as e:
            raise ToolError(f"{e} (python -m pipeline index --input {path.parent}/mix --output {path})") from None
        return {"run_id": run_id, "query": query, "mode": mode, "hits": [h.as_dict() for h in hits]}

    def trigger_dag(self, dag: str, params: dict[str, Any]) -> dict[str, Any]:
        if dag not in DAGS:
            raise ToolError(f"dag must be one of {', '.join(DAGS)}, got {dag!r}")
        try:
            return self.airflow.trigger(DAGS[dag], params)
        except AirflowError as e:
            raise ToolError(str(e)) from None

    def dag_run_status(self, dag: str, dag_run_id: str) -> dict[str, Any]:
        if dag not in DAGS:
            raise ToolError(f"dag must be one of {', '.join(DAGS)}, got {dag!r}")
        try:
            return self.airflow.dag_run(DAGS[dag], dag_run_id)
        except AirflowError as e:
            raise ToolError(str(e)) from None

    def evaluation_table(self, run_id: str) -> dict[str, Any]:
        run_dir = self.run_dir(run_id)
        out: dict[str, Any] = {"run_id": run_id, "variants": self._query("report_evaluations", {"run_id": run_id})}
        rag = run_dir / "index" / "rag_eval.json"  # written by benchmarks/rag.py --out
        if rag.is_file():
            out["rag"] = json.loads(rag.read_text())
        if not out["variants"] and "rag" not in out:
            raise ToolError(f"run {run_id!r} has no evaluation recorded yet (the training DAG's record_eval "
                            "task, or `python -m pipeline catalog record-eval`)")
        return out

    def report_html(self, run_id: str) -> str:
        path = self.run_dir(run_id) / "report.html"
        if not path.is_file():
            raise ToolError(f"run {run_id!r} has no report yet ({path}); `python -m pipeline report --run {run_id}`")
        return path.read_text()


def readme_stage_list() -> str:
    """The README's "What runs" section and every stage's one-line description."""
    from pipeline import registry

    readme = (REPO / "README.md").read_text() if (REPO / "README.md").is_file() else ""
    section = re.search(r"^## What runs\n(.*?)(?=^## )", readme, re.S | re.M)
    lines = ["# Stages", "", section.group(1).strip() if section else "", "", "| stage | what it does |",
             "| --- | --- |"]
    lines += [f"| `{n}` | {registry.describe(n)} |" for n in registry.stage_names()]
    return "\n".join(lines) + "\n"


def build_server(cfg: ServerConfig) -> MCPServer:
    tools = PipelineTools(cfg)
    mcp = MCPServer("llm-pipeline", instructions="Runs, funnels, stats, corpus search and DAG triggers of the "
                    "LLM data-and-training pipeline. Run ids come from list_runs.")

    @mcp.tool()
    def list_runs() -> dict[str, Any]:
        """Every run in the catalog with its status, stage count and seconds, newest first."""
        return {"runs": tools.list_runs()}

    @mcp.tool()
    def run_funnel(run_id: str) -> dict[str, Any]:
        """A run's document funnel: rows in/out per stage in order, and why documents were dropped."""
        return tools.run_funnel(run_id)

    @mcp.tool()
    def stage_stats(run_id: str, stage: str) -> dict[str, Any]:
        """Every numeric stat one stage of a run recorded (its flattened _stats.json)."""
        return tools.stage_stats(run_id, stage)

    @mcp.tool()
    def search_documents(run_id: str, query: str, k: int = 5,
                         mode: Literal["hybrid", "dense", "bm25"] = "hybrid") -> dict[str, Any]:
        """Search a run's curated documents (its `index` stage): top-k chunks with their document ids."""
        return tools.search_documents(run_id, query, k, mode)

    @mcp.tool()
    def trigger_dag(dag: Literal["data", "training"], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start the data or training DAG now with these Params (Airflow checks them against the DAG's form)."""
        return tools.trigger_dag(dag, params or {})

    @mcp.tool()
    def dag_run_status(dag: Literal["data", "training"], dag_run_id: str) -> dict[str, Any]:
        """The state of a DAG run trigger_dag started."""
        return tools.dag_run_status(dag, dag_run_id)

    @mcp.tool()
    def evaluation_table(run_id: str) -> dict[str, Any]:
        """The evaluation of models trained on a run (perplexity, exact match, speed per variant) and its RAG table."""
        return tools.evaluation_table(run_id)

    @mcp.resource("pipeline://stages", mime_type="text/markdown", description="The README's stage list.")
    def stages() -> str:
        return readme_stage_list()

    @mcp.resource("pipeline://runs/{run_id}/report.html", mime_type="text/html",
                  description="A run's self-contained HTML report.")
    def report(run_id: str) -> str:
        try:
            return tools.report_html(run_id)
        except ToolError as e:
            raise ResourceError(str(e)) from None

    return mcp


def main(argv: list[str] | None = None) -> int:
    from pipeline.config import load_config

    p = argparse.ArgumentParser(prog="python -m pipeline.apps.mcp_server", description=__doc__.splitlines()[0])
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--port", type=int, default=8765, help="http: the port on 127.0.0.1")
    p.add_argument("--data-root", help="data root (default: config run.data_root)")
    p.add_argument("--catalog-url", help="catalog URL (default: config, $PIPELINE_CATALOG_URL)")
    p.add_argument("--config")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.set + ([f"run.data_root={args.data_root}"] if args.data_root else []))
        server = build_server(ServerConfig(args.catalog_url or cfg.catalog_url(), cfg.run.data_root))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.transport == "stdio":
        server.run("stdio")
    else:  # loopback only: the tools can start DAG runs with the user's Airflow login
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
