"""The data DAG: imports cleanly, exposes its form, and runs end to end on the sample."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "pipeline" / "sample" / "docs.jsonl"


def _dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dags_import_without_errors(airflow_db):
    bag = _dagbag()
    assert bag.import_errors == {}
    dag = bag.get_dag("llm_data_pipeline")
    assert dag is not None
    assert {"data_root", "run_id", "config_file"} <= set(dag.params.keys())
    assert dag.schedule == "@daily" if hasattr(dag, "schedule") else True
    # one SparkSubmitOperator per stage, wired in order, publish last
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    spark_tasks = [t for t in dag.tasks if isinstance(t, SparkSubmitOperator)]
    assert {t.task_id for t in spark_tasks} >= {"ingest_jsonl", "normalize"}
    assert all(t.retries >= 1 for t in dag.tasks)
    assert dag.get_task("publish").upstream_task_ids


def test_dag_files_hold_wiring_only():
    # DAG files may import airflow, pipeline.config/orchestration/registry; never stage logic.
    for path in (REPO / "dags").glob("*.py"):
        text = path.read_text()
        for forbidden in ("import pandas", "import pyspark", "from pyspark", "import torch"):
            assert forbidden not in text, f"{path.name} holds logic ({forbidden})"


@pytest.mark.slow
def test_dag_runs_end_to_end_on_the_sample(airflow_db, tmp_path, monkeypatch):
    """Every stage on the bundled sample: the funnel adds up and token shards come out."""
    data_root = tmp_path / "data"
    monkeypatch.setenv("PIPELINE_CATALOG_URL", f"sqlite:///{data_root / 'catalog.sqlite'}")
    dag = _dagbag().get_dag("llm_data_pipeline")
    dr = dag.test(run_conf={"run_id": "e2e", "data_root": str(data_root)})
    assert str(dr.state).endswith("success")
    from pipeline.catalog import Catalog

    cols, rows = Catalog(f"sqlite:///{data_root / 'catalog.sqlite'}").query("stages", {"run_id": "e2e"})
    stages = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    spark_tasks = {t.task_id.replace("_", "-") for t in dag.tasks
                   if t.task_id not in ("publish", "sample_inputs", "report", "import_base")}
    assert set(stages) == spark_tasks
    assert stages["crawl"]["status"] == "skipped"
    assert all(s["status"] == "succeeded" for name, s in stages.items() if name != "crawl")
    sources = ("extract", "ingest-jsonl", "ingest-arxiv", "ingest-github", "ingest-books")
    assert stages["normalize"]["rows_in"] == sum(stages[s]["rows_out"] for s in sources)
    for stage, upstream in [("score-rules", "normalize"), ("quality", "score-rules"), ("domain", "quality"),
                            ("filter", "domain"), ("decontaminate", "filter"), ("pii", "decontaminate"),
                            ("dedup-exact", "pii"), ("dedup-minhash", "dedup-exact"),
                            ("dedup-semantic", "dedup-minhash"), ("mix", "dedup-semantic")]:
        assert stages[stage]["rows_in"] == stages[upstream]["rows_out"], stage
    assert 0 < stages["filter"]["rows_out"] < stages["filter"]["rows_in"]
    assert stages["decontaminate"]["rows_out"] < stages["decontaminate"]["rows_in"]
    assert stages["dedup-exact"]["rows_out"] < stages["dedup-exact"]["rows_in"]
    index = json.loads((data_root / "e2e" / "tokens" / "index.json").read_text())
    assert index["format"] == "llm-pipeline-tokens/1"
    tokens = {split: sum(s["num_tokens"] for s in index["shards"] if s["split"] == split) for split in ("train", "val")}
    assert tokens["train"] > 2_000 and tokens["val"] > 0



def test_base_model_feeds_the_tokenize_stage(airflow_db):
    """import_base's tokenizer.json (the base_model Param) and GSM8K train prompts reach tokenize's settings."""
    from jinja2 import Environment

    dag = _dagbag().get_dag("llm_data_pipeline")
    tokenize = dag.get_task("tokenize")
    assert "import_base" in tokenize.upstream_task_ids

    class TI:
        def xcom_pull(self, task_ids):
            return "/d/models/smollm2-135m-instruct/tokenizer.json" if task_ids == "import_base" else None

    def sets(**params) -> list[str]:
        p = dict(dag.params.dump(), run_id="r", data_root="/d", **params)
        return [Environment().from_string(a).render(params=p, ti=TI(), run_id="m", safe_run_id=str)
                for a in tokenize.application_args if "tokenize." in a]

    assert "tokenize.tokenizer_path=/d/models/smollm2-135m-instruct/tokenizer.json" in sets(base_model="x")
    assert "tokenize.rl_extra_path=" in sets(gsm8k_rl_items=0)
    with_gsm8k = sets(gsm8k_rl_items=64)
    assert any(a.startswith("tokenize.rl_extra_path=/") and a.endswith("gsm8k_train.jsonl.gz") for a in with_gsm8k)
    assert "tokenize.rl_extra_limit=64" in with_gsm8k
    # mix counts tokens in the same tokenizer (issue 21: no fixed bytes ratio), so it waits for the import too
    mix = dag.get_task("mix")
    assert "import_base" in mix.upstream_task_ids
    p = dict(dag.params.dump(), run_id="r", data_root="/d", base_model="x")
    mix_sets = [Environment().from_string(a).render(params=p, ti=TI(), run_id="m", safe_run_id=str)
                for a in mix.application_args if "mix." in a]
    assert "mix.tokenizer_path=/d/models/smollm2-135m-instruct/tokenizer.json" in mix_sets


def test_synth_llm_endpoint_param_sends_synth_to_a_running_server(airflow_db, monkeypatch):
    """compose's `llm` profile: the endpoint Param switches synth to the OpenAI backend at that URL."""
    from jinja2 import Environment

    monkeypatch.setenv("PIPELINE_SYNTH_LLM_ENDPOINT", "http://llm:8000/v1")
    dag = _dagbag().get_dag("llm_data_pipeline")
    assert dag.params.dump()["synth_llm_endpoint"] == "http://llm:8000/v1"  # the default comes from the env
    synth = dag.get_task("synth")

    def sets(**params) -> list[str]:
        p = dict(dag.params.dump(), run_id="r", data_root="/d", **params)
        return [Environment().from_string(a).render(params=p, run_id="m", safe_run_id=str)
                for a in synth.application_args if "synth." in a]

    with_endpoint = sets(synth_llm_model="")
    assert "synth.backend=openai" in with_endpoint
    assert "synth.llm.endpoint=http://llm:8000/v1" in with_endpoint
    offline = sets(synth_llm_model="", synth_llm_endpoint="")
    assert "synth.backend=template" in offline and "synth.llm.endpoint=" in offline
