"""The data DAG ends with the report: after publish (whose Asset extras name the report), last of all;
its callable runs `python -m pipeline report` and returns the path publish announced."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_report_is_the_last_task_and_writes_the_announced_file(demo, capsys):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "llm_data_pipeline.py"))
    assert bag.import_errors == {}
    dag = bag.dags["llm_data_pipeline"]  # no metadata DB needed
    report = dag.get_task("report")
    assert report.upstream_task_ids == {"publish"}
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["report"]
    assert report.retries >= 1

    # what publish returns (and puts in the Asset extras): the run, its tokens and the report's path
    announced = demo["data_root"] / "demo" / "report.html"
    info = {"run_id": "demo", "path": str(demo["data_root"] / "demo" / "tokens"), "report": str(announced)}
    params = {"data_root": str(demo["data_root"]), "config_file": ""}
    assert report.python_callable(info, params=params) == str(announced)
    assert "<section id=\"funnel\">" in announced.read_text()
    assert f"run report: {announced}" in capsys.readouterr().out
