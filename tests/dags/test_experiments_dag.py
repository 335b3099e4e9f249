"""The experiments DAG: imports with its form, renders each mode's commands (the other mode's tasks
skip), and a tiny scaling sweep (3 sizes x 2 FLOP budgets, a few steps each) runs plan -> mapped runs ->
fit -> check -> report under dag.test() on generated token shards, recording every run in the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jinja2 import Environment

from tests.trainer.token_fixture import write_token_shards

REPO = Path(__file__).resolve().parents[2]


def experiments_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "llm_experiments.py"))
    assert bag.import_errors == {}
    return bag.get_dag("llm_experiments")


def render(dag, task_id: str, params: dict) -> str:
    template = Environment().from_string(dag.get_task(task_id).bash_command)
    return template.render(params=params, run_id="manual__1", **dag.user_defined_macros)


def test_dag_exposes_both_modes_and_its_wiring(airflow_db):
    dag = experiments_dag()
    assert dag.params.get_param("mode").schema["enum"] == ["scaling_sweep", "data_ablation"]
    assert {"flop_budgets", "sizes", "check_factor", "ablation_data_runs", "seeds", "heldout_text"} <= set(dag.params)
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {"plan": [], "train_run": ["plan"], "fit": ["train_run"], "check": ["fit"],
                        "compare": ["train_run"], "report": ["check", "compare"]}
    assert dag.get_task("report").trigger_rule == "none_failed"


def test_each_mode_renders_its_commands_and_skips_the_other(airflow_db):
    from trainer.experiments.orchestration import plan_commands

    dag = experiments_dag()
    params = dict(dag.params.dump(), data_root="/data", data_run_id="r1", flop_budgets="1e12,3e12", sizes=3)
    sweep = plan_commands(params, "manual__1")
    assert len(sweep) == 6 and all(c.startswith("python -m trainer train --data /data/r1/tokens") for c in sweep)
    assert all("python -m pipeline.experiments record --experiment manual__1" in c and "--kind sweep" in c
               for c in sweep)
    assert render(dag, "compare", params) == "exit 99"
    fit = render(dag, "fit", params)
    assert "python -m trainer fit-scaling --runs /data/experiments/manual__1/fit/runs.csv --budget 1.2e+13" in fit
    assert "python -m trainer.experiments.check --fit" in render(dag, "check", params)

    ablation = {**params, "mode": "data_ablation", "ablation_data_runs": "dedup_on,dedup_off", "seeds": 3}
    runs = plan_commands(ablation, "manual__1")
    assert len(runs) == 6
    assert sum("--data /data/dedup_off/tokens" in c for c in runs) == 3
    assert all("trainer.experiments.heldout" in c and "heldout_text.jsonl.gz" in c for c in runs)
    assert {c.split("--set seed=")[1].split()[0] for c in runs} == {"1337", "1338", "1339"}
    assert render(dag, "fit", ablation) == render(dag, "check", ablation) == "exit 99"
    assert "python -m trainer.experiments.ablation" in render(dag, "compare", ablation)


@pytest.mark.slow
def test_tiny_sweep_runs_through_the_dag(airflow_db, tmp_path, monkeypatch):
    from pipeline.catalog import Catalog

    data_root = tmp_path / "data"
    tokens = write_token_shards(data_root / "r1" / "tokens", n_docs=600)
    catalog_url = f"sqlite:///{data_root / 'catalog.sqlite'}"
    monkeypatch.setenv("PIPELINE_CATALOG_URL", catalog_url)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # 2 shared cores: torch's default 2 threads ran 20x slower
    out = tmp_path / "exp"
    run = experiments_dag().test(run_conf={
        "mode": "scaling_sweep", "data_root": str(data_root), "data_run_id": "r1", "tokens_dir": str(tokens),
        "out_dir": str(out), "sizes": 3, "flop_budgets": "1e9,3e9", "check_factor": 1.5, "seq_len": 32,
        "micro_batch_size": 8, "min_steps": 1})
    states = {ti.task_id: str(ti.state).split(".")[-1] for ti in run.get_task_instances()}
    assert str(run.state).endswith("success"), states
    assert states["compare"] == "skipped" and states["check"] == states["report"] == "success"
    cols, rows = Catalog(catalog_url).query("SELECT kind, params, tokens, flops, loss, predicted_loss "
                                            "FROM experiments ORDER BY kind, params")
    sweep = [dict(zip(cols, r, strict=True)) for r in rows if r[0] == "sweep"]
    assert len(sweep) == 6 and len({r["params"] for r in sweep}) == 3
    assert all(r["loss"] > 0 and r["flops"] == pytest.approx(6 * r["params"] * r["tokens"]) for r in sweep)
    fit = json.loads((out / "fit" / "fit.json").read_text())
    assert fit["runs"] == 6 and fit["budget"] == pytest.approx(4.5e9)
    check = json.loads((out / "check" / "check.json").read_text())
    assert check["actual_loss"] > 0 and check["predicted_loss"] > 0
    assert min(r["params"] for r in sweep) <= check["params"] <= max(r["params"] for r in sweep)
    (check_row,) = [r for r in rows if r[0] == "check"]
    assert check_row[4] == pytest.approx(check["actual_loss"]) and check_row[5] == pytest.approx(check["predicted_loss"])
    html = (out / "report.html").read_text()
    assert 'id="fit-table"' in html and 'id="fig-scaling-fit"' in html and 'id="fig-isoflops"' in html
    assert 'id="check-table"' in html
