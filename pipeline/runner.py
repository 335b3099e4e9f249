"""Runs one stage under the contract: checked inputs, atomic output, stats, catalog, summary."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from pipeline import registry
from pipeline.catalog import Catalog
from pipeline.commit import is_locked, output_lock
from pipeline.config import PipelineConfig, to_dict
from pipeline.dataset import atomic_directory, require_dataset, write_dataset, write_stats
from pipeline.errors import UsageError
from pipeline.parquet_input import parquet_parts_problem
from pipeline.schema import validate_columns
from pipeline.spark import job_step
from pipeline.stage import StageContext, StageResult
from pipeline.storage import filesystem, is_local


@dataclass
class StageSummary:
    stage: str
    run_id: str
    output: str
    rows_in: int | None
    rows_out: int
    seconds: float
    status: str

    def line(self) -> str:
        rows_in = "-" if self.rows_in is None else f"{self.rows_in:,}"
        return (f"[{self.stage}] {self.status}: rows in {rows_in}, out {self.rows_out:,}, "
                f"{self.seconds:.1f}s -> {self.output}")


def run_id_for(output: str, cfg: PipelineConfig) -> str:
    """Explicit run id, else the parent folder of OUT (<data_root>/<run_id>/<stage>)."""
    if cfg.run.run_id:
        return cfg.run.run_id
    parts = output.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2] else "adhoc"


def check_inputs(stage, inputs: list[str]) -> None:
    if stage.input_kind == "none":
        return
    if not inputs:
        raise UsageError(f"stage '{stage.name}' needs --input")
    for path in inputs:
        if stage.input_kind == "documents" and is_local(path):
            path = stage.input_dataset(path)
            require_dataset(path)
            if problem := parquet_parts_problem(path):  # said before Spark starts: one line, exit 2
                raise UsageError(f"input is not a Parquet dataset: {problem}")
        elif stage.input_kind == "files" and is_local(path) and not filesystem(path).exists(path):
            raise UsageError(f"input not found: {path}")


def run_stage(name: str, inputs: list[str], output: str, cfg: PipelineConfig, skip: bool = False,
              spark=None) -> StageSummary:
    stage = registry.load(name)
    settings = cfg.stage_config(name, stage.config_class)
    if not skip or stage.input_kind == "documents":
        check_inputs(stage, inputs)
    run_id = run_id_for(output, cfg)
    catalog = Catalog(cfg.catalog_url())
    catalog.init()
    # Rows left 'running' by attempts that died (kill -9, OOM) are marked before this one starts.
    catalog.mark_killed(attempt_is_gone)
    with output_lock(output):  # one live attempt per OUT; a second one stops here, in one line
        return _run_locked(stage, name, settings, inputs, output, cfg, skip, spark, run_id, catalog)


def attempt_is_gone(path: str) -> bool:
    """A 'running' row's attempt is gone when nobody holds its output's lock (local paths only)."""
    return is_local(path) and not is_locked(path)


def _run_locked(stage, name: str, settings, inputs: list[str], output: str, cfg: PipelineConfig,
                skip: bool, spark, run_id: str, catalog: Catalog) -> StageSummary:
    catalog.start_run(run_id, cfg.run.data_root, json.dumps(to_dict(cfg), default=str))
    catalog.start_stage(run_id, name, output)
    started = time.time()
    try:
        if spark is None:
            from pipeline.spark import get_spark

            spark = get_spark(cfg.spark)
        spark.sparkContext.setJobGroup(name, f"{name} -> {output}")
        for path in inputs:
            if stage.input_kind == "documents" and not is_local(path):
                require_dataset(path, spark)
        ctx = StageContext(spark=spark, config=cfg, settings=settings, inputs=list(inputs),
                           output=output, run_id=run_id)
        try:
            summary = _execute(stage, ctx, skip, started)
        finally:
            # Stages cache their annotated frame for stats + write. Spark matches cached plans by
            # path, so a cache left behind would serve stale rows to a later stage that rereads a
            # rewritten input in the same session (tests, benchmarks, a driver running many stages).
            spark.catalog.clearCache()
    except BaseException as exc:
        catalog.finish_stage(run_id, name, status="failed", seconds=time.time() - started,
                             error=f"{type(exc).__name__}: {exc}"[:2000])
        catalog.finish_run(run_id, "failed")
        raise
    stats = _stats_of(output, spark)
    catalog.finish_stage(run_id, name, status=summary.status, rows_in=summary.rows_in,
                         rows_out=summary.rows_out, nbytes=filesystem(output, spark).size(output),
                         seconds=summary.seconds, stats=stats)
    return summary


def _stats_of(output: str, spark) -> dict:
    fs = filesystem(output, spark)
    try:
        return json.loads(fs.read_text(f"{output}/_stats.json"))
    except (OSError, ValueError):
        return {}


def _execute(stage, ctx: StageContext, skip: bool, started: float) -> StageSummary:
    if skip:
        # Toggled off: document stages pass their input through; source stages write no documents.
        if stage.input_kind == "documents":
            docs = ctx.read_documents()
        else:
            from pipeline.schema import spark_schema

            docs = ctx.spark.createDataFrame([], spark_schema())
        rows_in = None if stage.input_kind == "documents" else 0
        result = StageResult(documents=docs, stats={"skipped": True}, rows_in=rows_in)
        status = "skipped"
    else:
        status = "succeeded"
        if stage.output_kind == "files":
            final_output = ctx.output
            with atomic_directory(final_output, ctx.spark) as tmp:
                ctx.output = tmp
                with job_step(ctx.spark, stage.name, "compute and write files"):
                    result = ctx.account_input_rejects(stage.run(ctx))
                for side, frame in result.side_outputs.items():  # e.g. input rows set aside
                    frame.write.mode("overwrite").parquet(f"{tmp}/_{side}")
                ctx.count_input_rejects(result.stats, tmp)
                rows_in = result.rows_in if result.rows_in is not None else _count_inputs(stage, ctx)
                seconds = time.time() - started
                rows_out = int(result.stats.get("rows_out", 0))
                write_stats(tmp, {"stage": stage.name, "rows_in": rows_in, "seconds": round(seconds, 3),
                                  **result.stats}, ctx.spark)
            ctx.output = final_output
            return StageSummary(stage.name, ctx.run_id, final_output, rows_in, rows_out, seconds, status)
        with job_step(ctx.spark, stage.name, "compute"):  # the stage's own actions (counts, stats)
            result = ctx.account_input_rejects(stage.run(ctx))
    docs = result.documents
    if stage.output_kind == "documents" and docs is not None:
        validate_columns([(f.name, f.dataType.simpleString()) for f in docs.schema.fields],
                         f"output of stage '{stage.name}'")
    rows_in = result.rows_in if result.rows_in is not None else _count_inputs(stage, ctx)
    stats = {"stage": stage.name, "rows_in": rows_in, **result.stats}
    with job_step(ctx.spark, stage.name, f"write {ctx.output}"):
        written = write_dataset(ctx.spark, docs, ctx.output, stats, result.side_outputs)
    seconds = time.time() - started
    # seconds are known only after the write; add them without rewriting the data.
    fs = filesystem(ctx.output, ctx.spark)
    final = json.loads(fs.read_text(f"{ctx.output}/_stats.json"))
    final["seconds"] = round(seconds, 3)
    ctx.count_input_rejects(final, ctx.output)  # from the written _rejected/, not another input pass
    write_stats(ctx.output, final, ctx.spark)
    return StageSummary(stage.name, ctx.run_id, ctx.output, rows_in, written.rows_out, seconds, status)


def _count_inputs(stage, ctx: StageContext) -> int | None:
    if stage.input_kind != "documents":
        return None
    with job_step(ctx.spark, stage.name, "count input rows"):
        return sum(ctx.spark.read.parquet(p).count() for p in ctx.inputs)
