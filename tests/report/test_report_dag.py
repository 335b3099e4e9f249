"""The data DAG ends with the report: after publish (whose Asset extras name the report), last of all."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_report_is_the_last_task_after_publish():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "llm_data_pipeline.py"))
    assert bag.import_errors == {}
    dag = bag.dags["llm_data_pipeline"]  # no metadata DB needed
    report = dag.get_task("report")
    assert report.upstream_task_ids == {"publish"}
    assert report.downstream_task_ids == set()
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["report"]
    assert report.retries >= 1
