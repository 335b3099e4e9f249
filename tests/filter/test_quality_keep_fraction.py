"""filter's DCLM-style cut: keep the top fraction of judged documents by quality score."""

import pytest

from pipeline.dataset import read_stats
from pipeline.schema import document_id, spark_schema


def _scored_docs(spark, path):
    # 10 English web docs scored 0.0 .. 0.9, one Chinese and one code doc with low scores.
    rows = [{"id": document_id("web", f"u{i}"), "text": f"doc {i}", "source": "web", "url": f"u{i}",
             "title": None, "lang": "en", "lang_score": 1.0, "fetched_at": None, "metadata": None,
             "quality_score": i / 10} for i in range(10)]
    rows.append({**rows[0], "id": "zh", "lang": "zh", "quality_score": 0.01})
    rows.append({**rows[0], "id": "code", "source": "github", "quality_score": 0.0})
    schema = spark_schema().add("quality_score", "double")
    spark.createDataFrame(rows, schema).write.parquet(str(path))
    (path / "_SUCCESS").write_text("")


@pytest.mark.slow
def test_keep_fraction_replaces_the_absolute_cut(spark, data_root, run_stage_in):
    src = data_root / "r" / "scored"
    _scored_docs(spark, src)
    out = data_root / "r" / "filter"
    run_stage_in("filter", [src], out, ["filter.rule_sets=[quality]", "filter.quality_keep_fraction=0.3"])
    kept = {r.id for r in spark.read.parquet(str(out)).collect()}
    top3 = {document_id("web", f"u{i}") for i in (7, 8, 9)}
    # the top 30% of the English web pool, plus documents the quality rule does not judge
    assert kept == top3 | {"zh", "code"}
    stats = read_stats(str(out))
    assert stats["quality_cut"]["judged"] == 10 and stats["quality_cut"]["min_quality_score"] == 0.7
    assert stats["dropped"]["quality_score"] == 7
