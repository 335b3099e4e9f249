"""Data DAG: raw sources to curated documents, one SparkSubmitOperator task per stage.

Wiring only: stages, their inputs and the Params form. Each task runs the same
`pipeline/jobs/<stage>.py` a user would `spark-submit` by hand against `spark_default`
(`local[*]` embedded, the Spark master in compose).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Asset, Param, task

from pipeline.config import CURATED_ASSET_NAME
from pipeline.orchestration import StageStep, default_data_root, safe_run_id
from pipeline.registry import job_path

RUN_DIR = "{{ params.data_root }}/{{ params.run_id or safe_run_id(run_id) }}"

STEPS = [
    StageStep("ingest-jsonl", raw_inputs="{{ params.jsonl_inputs }}", toggle="use_jsonl"),
    StageStep("normalize", reads=("ingest-jsonl",), toggle="run_normalize"),
]
CURATED_FROM = "normalize"

curated = Asset(name=CURATED_ASSET_NAME)

with DAG(
    dag_id="llm_data_pipeline",
    description="Raw sources to curated documents and token shards (PySpark stages).",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=True,  # the daily schedule is off until a user switches it on
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=20)},
    user_defined_macros={"safe_run_id": safe_run_id},
    render_template_as_native_obj=False,
    tags=["llm-pipeline", "data"],
    params={
        "data_root": Param(default_data_root(), type="string", title="Data root",
                           description="Local path or Hadoop URI (s3a://...) holding run folders."),
        "run_id": Param("", type="string", title="Run id",
                        description="Folder name of this run; empty: derived from Airflow's run id."),
        "jsonl_inputs": Param(str(job_path("ingest-jsonl").parent.parent / "sample" / "docs.jsonl"),
                              type="string", title="JSONL inputs", description="Comma-separated paths."),
        "use_jsonl": Param(True, type="boolean", title="Ingest JSONL"),
        "run_normalize": Param(True, type="boolean", title="Normalise text"),
        "config_file": Param("", type="string", title="Config file",
                             description="Optional YAML with stage settings (see pipeline/config.py)."),
    },
) as dag:
    previous = {}
    for step in STEPS:
        args = ["--output", f"{RUN_DIR}/{step.stage}", "--run-id", "{{ params.run_id or safe_run_id(run_id) }}",
                "--config", "{{ params.config_file }}", "--set", "run.data_root={{ params.data_root }}"]
        for upstream in step.reads:
            args += ["--input", f"{RUN_DIR}/{upstream}"]
        if step.raw_inputs:
            args += ["--input", step.raw_inputs]
        if step.toggle:
            args += ["--skip", "{{ 'false' if params." + step.toggle + " else 'true' }}"]
        for key, value in step.overrides:
            args += ["--set", f"{key}={value}"]
        op = SparkSubmitOperator(
            task_id=step.stage.replace("-", "_"),
            application=str(job_path(step.stage)),
            conn_id="spark_default",
            name=f"llm-pipeline-{step.stage}",
            application_args=args,
            # PYTHONSAFEPATH: job files live beside e.g. `tokenize.py`, which must not shadow the stdlib.
            env_vars={"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
                      "PYTHONSAFEPATH": "1"},
        )
        for upstream in step.reads:
            previous[upstream] >> op
        previous[step.stage] = op

    @task(outlets=[curated])
    def publish(params=None, run_id=None, outlet_events=None):
        """Mark the run done in the catalog; the Asset event carries where the data is."""
        from pipeline.orchestration import finish_run

        info = finish_run(params["data_root"], params["run_id"] or safe_run_id(run_id), CURATED_FROM)
        outlet_events[curated].extra = info
        return info

    previous[CURATED_FROM] >> publish()
