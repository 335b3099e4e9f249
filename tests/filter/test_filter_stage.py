"""score-rules -> pii -> filter through the real runner: reasons, per-rule counts, kept prose."""

import json

import pytest

from pipeline.dataset import read_stats
from pipeline.schema import document_id

PROSE = ("The committee met on Tuesday to review the proposal. Members discussed the budget and the "
         "schedule with care. Several of them raised concerns about the timeline that had been agreed. "
         "The chair asked for a revised plan to be shared with everyone before the next meeting. "
         "It was also agreed that the report would be published in the spring, after a public review. "
         "Contact the secretary at jane.doe@example.org with any questions about the process.")
SPAM = "\n".join(["BUY NOW", "Cheap pills", "Click here", "Best casino", "Win $$$"] * 6)
LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod.\n" + PROSE
CHINESE = ("我们的研究是关于大型语言模型的数据处理。这个项目在过去一年里取得了很大的进展。"
           "研究人员收集了来自不同领域的文本，并且对数据的质量进行了仔细的评估。\n"
           "我们发现高质量的数据对模型的表现有重要的影响。在接下来的工作中，我们将继续改进数据的清洗方法。"
           "同时，我们也会公开发布相关的代码和文档，以便其他研究者可以重复我们的实验。")


def write_docs(spark, path, texts):
    rows = [{"id": document_id("web", f"u{i}"), "text": t, "source": "web", "url": f"http://x/{i}",
             "title": None, "lang": None, "lang_score": None, "fetched_at": None, "metadata": None}
            for i, t in enumerate(texts)]
    from pipeline.schema import spark_schema
    spark.createDataFrame(rows, spark_schema()).write.parquet(str(path))
    (path / "_SUCCESS").write_text("")


@pytest.mark.slow
def test_score_pii_filter_chain(spark, data_root, run_stage_in, tmp_path):
    raw = data_root / "r" / "raw"
    write_docs(spark, raw, [PROSE, SPAM, LOREM, CHINESE])
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: casino, pattern: '\\bcasino\\b', ignore_case: true}\n")
    run_stage_in("score-rules", [raw], data_root / "r" / "score",
                 [f"score-rules.user_rules={rules}", "score-rules.c4.remove_lines=false"])
    run_stage_in("pii", [data_root / "r" / "score"], data_root / "r" / "pii")
    s = run_stage_in("filter", [data_root / "r" / "pii"], data_root / "r" / "filter")
    kept = {r["text"][:10] for r in spark.read.parquet(s.output).collect()}
    assert kept == {PROSE[:10], CHINESE[:10]}
    assert "<EMAIL>" in next(r["text"] for r in spark.read.parquet(s.output).collect()
                             if r["text"].startswith("The committee"))
    rejected = {r["text"][:10]: r["reject_reason"] for r in spark.read.parquet(f"{s.output}/_rejected").collect()}
    assert rejected[LOREM[:10]] == "c4_lorem_ipsum"
    assert rejected[SPAM[:10]].startswith("gopher")
    stats = read_stats(str(s.output))
    assert stats["dropped"]["c4_lorem_ipsum"] == 1
    assert stats["dropped_total"] == 2 and stats["rows_out"] == 2
    assert stats["failed"]["user_casino"] == 1  # also failed, though an earlier rule got the drop
    assert "quality" in stats["skipped_rule_sets"]
    pii_stats = read_stats(str(data_root / "r" / "pii"))
    assert pii_stats["redacted"]["emails"] == 2
    assert json.dumps(stats)  # serialisable for the catalog
