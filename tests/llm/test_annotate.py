"""LLM quality annotation (FineWeb-Edu method): score parsing, Spearman, the hq cut; train-quality with
reference=llm through the real engine writes a model the quality stage applies, with the agreement."""

import json
import math
import random
from pathlib import Path

import pytest

from pipeline.dataset import read_stats
from pipeline.quality.llm_annotate import parse_score, spearman, threshold_for
from tests.mix.docs_fixture import write_documents

REPO = Path(__file__).resolve().parents[2]


def test_parse_score():
    assert parse_score("The extract is coherent. Educational score: 4") == 4
    assert parse_score("**Educational Score:** 2 points") == 2
    assert parse_score("I would give it 3") == 3
    assert parse_score("Educational score: 7") is None and parse_score("no idea") is None and parse_score(None) is None
    top = {"1": math.log(0.5), " 3": math.log(0.25), "x": math.log(0.2), "5": math.log(0.05)}
    assert parse_score(json.dumps({"text": "1", "top": top})) == pytest.approx((0.5 + 0.75 + 0.25) / 0.8)
    assert parse_score(json.dumps({"text": "x", "top": {"x": 0.0}})) is None


def test_spearman_and_threshold():
    assert spearman([0, 1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4, 0.9]) == pytest.approx(1.0)
    assert spearman([0, 1, 2, 3, 4], [0.9, 0.4, 0.3, 0.2, 0.1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 2], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.894, abs=1e-3)  # ties: average ranks
    assert spearman([2, 2, 2], [0.1, 0.2, 0.3]) is None
    assert threshold_for([0, 1, 3, 4], 3) == 3
    assert threshold_for([0.5, 1.0, 1.2, 2.0, 2.5], 3) == 1.2  # none >= 3: the median splits the scores


def _docs(n: int) -> list[dict]:
    prose = [json.loads(line)["text"] for line in (REPO / "pipeline/resources/quality_reference_en.jsonl")
             .read_text().splitlines()][:n]
    rng = random.Random(0)
    spam = [" ".join(rng.choice(["BUY", "cheap", "pills", "click", "here", "best", "price", "!!!", "casino", "win",
                                 "free", "now", "deal", "xxx", "hot", "offer"]) for _ in range(60)) for _ in range(n)]
    return [{"id": f"p{i}", "text": t} for i, t in enumerate(prose)] + [{"id": f"s{i}", "text": t} for i, t in enumerate(spam)]


@pytest.mark.slow
def test_train_quality_on_llm_scores_then_quality_applies_it(vllm_server, spark, tmp_path, run_stage_in):
    src = write_documents(spark, tmp_path / "docs", _docs(8))
    sets = ["train-quality.reference=llm", f"train-quality.llm.endpoint={vllm_server.base_url}",
            "train-quality.annotate_docs=16", "train-quality.heldout_fraction=0.25", "train-quality.llm.max_concurrency=8"]
    run_stage_in("train-quality", [src], tmp_path / "tq", sets)
    metrics = json.loads((tmp_path / "tq" / "metrics.json").read_text())
    notes = (tmp_path / "tq" / "annotations.jsonl").read_text().splitlines()
    assert metrics["reference"] == "llm" and metrics["annotated"] == len(notes) >= 8
    assert metrics["annotated"] + metrics.get("dropped_unparseable", 0) + metrics.get("dropped_no_response", 0) == 16
    assert metrics["spearman_heldout"] is None or -1.0 <= metrics["spearman_heldout"] <= 1.0
    assert sum(metrics["score_histogram"].values()) == metrics["annotated"]
    run_stage_in("quality", [src], tmp_path / "q", [f"quality.model={tmp_path / 'tq' / 'model.bin'}"])
    scores = spark.read.parquet(str(tmp_path / "q")).select("quality_score").collect()
    assert len(scores) == 16 and all(0.0 <= r[0] <= 1.0 for r in scores)
    assert read_stats(str(tmp_path / "q"))["model"].endswith("model.bin")
