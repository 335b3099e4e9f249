"""The training DAG: imports cleanly, exposes its form, reads the data DAG's asset event, skips the
branches its toggles turn off, and runs pretrain -> export -> evaluate -> record_eval -> report under
dag.test() on token shards in the tokenize stage's format."""

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
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {"import_base": [], "pretrain": ["import_base"], "export": ["pretrain"], "evaluate": ["export"],
                        "record_eval": ["evaluate"], "report": ["record_eval"], "sft": ["pretrain"],
                        "grpo": ["sft"], "grpo_export": ["grpo"], "extend": ["pretrain"],
                        "extend_export": ["extend"], "evaluate_base": ["import_base"],
                        "evaluate_posttrained": ["grpo_export"], "prune": ["export"],
                        "evaluate_pruned": ["prune"], "evaluate_kv": ["export"]}
    assert {"run_eval", "run_posttrain", "run_extend", "sft_lora_rank", "grpo_group_size", "grpo_beta",
            "extend_seq_len", "eval_variants", "base_model", "base_lr", "base_seq_len"} <= set(dag.params.keys())
    assert all(t.retries >= 1 for t in dag.tasks)
    from pipeline.config import TOKENS_ASSET_NAME

    assert TOKENS_ASSET_NAME in str(dag.timetable.asset_condition)


def test_tokens_dir_comes_from_the_triggering_asset_event(airflow_env):
    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
    from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

    from pipeline.config import TOKENS_ASSET_NAME
    from trainer.orchestration import dag_pretrain_command

    event = AssetEventDagRunReferenceResult(
        asset={"name": TOKENS_ASSET_NAME, "uri": TOKENS_ASSET_NAME, "extra": {}},
        extra={"tokens_dir": "/data/r7/tokens"}, source_task_id="publish", source_dag_id="llm_data_pipeline",
        source_run_id="r7", source_map_index=-1, source_aliases=[], timestamp=datetime.now(UTC))
    events = TriggeringAssetEventsAccessor.build([event])
    params = {**{k: v for k, v in training_dag().params.dump().items()}, "steps": 5}
    cmd = dag_pretrain_command(params, events, "asset_triggered__x", TOKENS_ASSET_NAME)
    assert cmd.startswith("python -m trainer train --data /data/r7/tokens --out /data/r7/pretrain/asset_triggered__x")
    assert "--steps 5" in cmd and "--resume" in cmd


def test_branch_toggles_render_a_skip(airflow_env):
    """A toggled-off branch renders `exit 99`, BashOperator's "skipped"; on, the launcher's command."""
    from jinja2 import Environment

    dag = training_dag()
    params = dict(dag.params.dump(), data_run_id="r1", data_root="/data")
    for task_id, toggle, module in (("sft", "run_posttrain", "trainer sft"), ("extend", "run_extend", "trainer extend"),
                                    ("evaluate", "run_eval", "trainer evaluate"),
                                    ("evaluate_posttrained", "run_posttrain", "trainer evaluate"),
                                    ("evaluate_base", "base_model", "trainer evaluate"),
                                    ("prune", "eval_prune", "trainer prune"),
                                    ("evaluate_pruned", "eval_prune", "trainer evaluate"),
                                    ("evaluate_kv", "eval_kv_policy", "trainer kv-eval")):
        template = Environment().from_string(dag.get_task(task_id).bash_command)
        strings = {"base_model": "smollm2-135m-instruct", "eval_prune": "wanda:2:4", "eval_kv_policy": "snapkv:256"}
        for on in (True, False):
            value = (strings[toggle] if on else "") if toggle in strings else on
            line = template.render(params={**params, toggle: value}, triggering_asset_events={}, run_id="manual__1",
                                   **dag.user_defined_macros)
            assert (line == "exit 99") is (not on)
            assert (f"python -m {module} " in line) is on
    # base_model: "" skips the import (pretraining starts from scratch); a name imports it and continues it
    import_base = Environment().from_string(dag.get_task("import_base").bash_command)
    assert import_base.render(params=params, triggering_asset_events={}, run_id="m", **dag.user_defined_macros) == "exit 99"
    base = {**params, "base_model": "smollm2-135m-instruct"}
    assert import_base.render(params=base, triggering_asset_events={}, run_id="m", **dag.user_defined_macros) == \
        "python -m trainer import-model --source smollm2-135m-instruct --out /data/models/smollm2-135m-instruct"
    pretrain = Environment().from_string(dag.get_task("pretrain").bash_command)
    line = pretrain.render(params=base, triggering_asset_events={}, run_id="m", **dag.user_defined_macros)
    assert "--set init_from=/data/models/smollm2-135m-instruct --set lr=3e-05" in line and "--resume" in line
    assert "init_from" not in pretrain.render(params=params, triggering_asset_events={}, run_id="m",
                                              **dag.user_defined_macros)
    assert dag.get_task("pretrain").trigger_rule == "none_failed"
    report = Environment().from_string(dag.get_task("report").bash_command).render(
        params=params, triggering_asset_events={}, run_id="manual__1", **dag.user_defined_macros)
    assert report.startswith("python -m pipeline report --run r1 --data-root /data --training-dir "
                             "/data/r1/pretrain/manual__1")


@pytest.mark.slow
def test_dag_trains_evaluates_and_reports_on_token_shards(airflow_env, tmp_path, monkeypatch):
    from pipeline.catalog import Catalog

    data_root = tmp_path / "data"
    tokens = write_token_shards(data_root / "r1" / "tokens")
    catalog_url = f"sqlite:///{data_root / 'catalog.sqlite'}"
    monkeypatch.setenv("PIPELINE_CATALOG_URL", catalog_url)
    catalog = Catalog(catalog_url)
    catalog.init()
    catalog.start_run("r1", str(data_root), "{}")
    catalog.finish_run("r1", "succeeded")
    out = data_root / "r1" / "pretrain" / "t1"
    dag = training_dag()
    run = dag.test(run_conf={"tokens_dir": str(tokens), "out_dir": str(out), "preset": "tiny", "steps": 30,
                             "zero_stage": 2, "micro_batch_size": 8, "num_procs": 1, "data_root": str(data_root),
                             "data_run_id": "r1", "eval_max_windows": 4, "run_posttrain": False})
    assert str(run.state).endswith("success")
    states = {ti.task_id: str(ti.state).split(".")[-1] for ti in run.get_task_instances()}
    assert states["sft"] == states["grpo"] == states["extend"] == states["evaluate_posttrained"] == "skipped"
    assert states["import_base"] == states["evaluate_base"] == "skipped"  # no base model
    assert states["evaluate"] == states["report"] == "success"
    report = json.loads((out / "eval" / "report.json").read_text())
    assert report["metric"] == "token_perplexity"
    assert {v["variant"] for v in report["variants"]} == {"fp32", "int8", "int4-rtn", "int4-gptq"}
    columns, rows = catalog.query("report_evaluations", {"run_id": "r1"})
    recorded = {row[columns.index("variant")]: row[columns.index("token_perplexity")] for row in rows}
    assert recorded == {v["variant"]: v["token_perplexity"] for v in report["variants"]}
    html = (out / "report.html").read_text()
    assert "int4-gptq" in html and "token" in html.lower()
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    curve = [r["loss"] for r in records if "loss" in r]
    assert curve[-1] < curve[0] - 0.5
    config = json.loads((out / "hf" / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (out / "hf" / "model.safetensors").is_file() and (out / "hf" / "tokenizer.json").is_file()
