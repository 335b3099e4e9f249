"""train-quality -> quality -> filter through the real runner on a small web-like corpus."""

import json

import pytest

from pipeline.dataset import read_stats
from pipeline.jobs.train_quality import REFERENCE
from pipeline.schema import document_id, spark_schema
from tests.quality.webcorpus import web_documents


def write_docs(spark, path, texts, source="web"):
    rows = [{"id": document_id(source, f"{path.name}/{i}"), "text": t, "source": source, "url": None,
             "title": None, "lang": "en", "lang_score": 1.0, "fetched_at": None, "metadata": None}
            for i, t in enumerate(texts)]
    spark.createDataFrame(rows, spark_schema()).coalesce(1).write.parquet(str(path))
    (path / "_SUCCESS").write_text("")


@pytest.mark.slow
def test_train_then_score_then_filter(spark, data_root, run_stage_in):
    run = data_root / "q"
    write_docs(spark, run / "web", web_documents(300, seed=11))
    summary = run_stage_in("train-quality", [run / "web"], run / "train-quality")
    out = run / "train-quality"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["heldout"]["precision"] >= 0.8 and metrics["heldout"]["recall"] >= 0.8, metrics
    assert (out / "model.bin").stat().st_size < 80_000_000
    assert read_stats(str(out))["heldout"] == metrics["heldout"] and summary.rows_out == 1

    with open(REFERENCE, encoding="utf-8") as f:
        prose = [json.loads(line)["text"] for line in f][-3:]  # held out of nothing: just real prose
    write_docs(spark, run / "mixed", prose + web_documents(3, seed=99))
    run_stage_in("quality", [run / "mixed"], run / "quality", [f"quality.model={out / 'model.bin'}"])
    scored = {r["text"]: r["quality_score"] for r in spark.read.parquet(str(run / "quality")).collect()}
    assert min(scored[t] for t in prose) > max(s for t, s in scored.items() if t not in prose)

    s = run_stage_in("filter", [run / "quality"], run / "filter", ["filter.rule_sets=[quality]"])
    assert s.rows_out == 3
    stats = read_stats(str(run / "filter"))
    assert stats["dropped"] == {"quality_score": 3}
    reasons = {r["reject_reason"] for r in spark.read.parquet(str(run / "filter" / "_rejected")).collect()}
    assert reasons == {"quality_score"}


def test_missing_model_is_a_usage_error_before_any_spark_work(tmp_path):
    from pipeline.errors import UsageError
    from pipeline.quality.artifacts import ship_model

    with pytest.raises(UsageError, match="no model configured"):
        ship_model(None, "")
    with pytest.raises(UsageError, match="model not found"):
        ship_model(None, str(tmp_path / "train-quality" / "model.bin"))
