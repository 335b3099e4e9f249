"""The training DAG: imports cleanly, exposes its form, reads the data DAG's asset event, and runs
pretrain -> export under dag.test() on token shards in the tokenize stage's format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.trainer.token_fixture import write_token_shards

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory):
    """An Airflow home with a migrated SQLite DB. Airflow reads its configuration at first import, so
    an AIRFLOW_HOME the session already chose (tests/conftest.py) is kept; otherwise one is made here."""
    if "AIRFLOW_HOME" not in os.environ:
        os.environ["AIRFLOW_HOME"] = str(tmp_path_factory.mktemp("airflow-home"))
        os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], check=True,
                   capture_output=True, timeout=600)
    return os.environ["AIRFLOW_HOME"]


def training_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "llm_training.py"))
    assert bag.import_errors == {}
    return bag.get_dag("llm_training")


def test_dag_imports_and_exposes_its_form(airflow_env):
    dag = training_dag()
    assert {"preset", "steps", "zero_stage", "micro_batch_size", "grad_accum", "lr", "num_procs",
            "tokens_dir", "out_dir"} <= set(dag.params.keys())
    assert [t.task_id for t in dag.topological_sort()] == ["pretrain", "export"]
    assert all(t.retries >= 1 for t in dag.tasks)
    from pipeline.config import TOKENS_ASSET_NAME

    assert TOKENS_ASSET_NAME in str(dag.timetable.asset_condition)


def test_tokens_dir_comes_from_the_triggering_asset_event(airflow_env):
    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
    from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

    from pipeline.config import TOKENS_ASSET_NAME
    from trainer.launch import dag_pretrain_command

    event = AssetEventDagRunReferenceResult(
        asset={"name": TOKENS_ASSET_NAME, "uri": TOKENS_ASSET_NAME, "extra": {}},
        extra={"tokens_dir": "/data/r7/tokens"}, source_task_id="publish", source_dag_id="llm_data_pipeline",
        source_run_id="r7", source_map_index=-1, source_aliases=[], timestamp=datetime.now(UTC))
    events = TriggeringAssetEventsAccessor.build([event])
    params = {**{k: v for k, v in training_dag().params.dump().items()}, "steps": 5}
    cmd = dag_pretrain_command(params, events, "asset_triggered__x", TOKENS_ASSET_NAME)
    assert cmd.startswith("python -m trainer.train --data /data/r7/tokens --out /data/r7/pretrain/asset_triggered__x")
    assert "--steps 5" in cmd and "--resume" in cmd


@pytest.mark.slow
def test_dag_trains_and_exports_on_token_shards(airflow_env, tmp_path):
    tokens = write_token_shards(tmp_path / "tokens")
    out = tmp_path / "pretrain"
    dag = training_dag()
    run = dag.test(run_conf={"tokens_dir": str(tokens), "out_dir": str(out), "preset": "tiny", "steps": 30,
                             "zero_stage": 2, "micro_batch_size": 8, "num_procs": 1})
    assert str(run.state).endswith("success")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    curve = [r["loss"] for r in records if "loss" in r]
    assert curve[-1] < curve[0] - 0.5
    config = json.loads((out / "hf" / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (out / "hf" / "model.safetensors").is_file() and (out / "hf" / "tokenizer.json").is_file()
