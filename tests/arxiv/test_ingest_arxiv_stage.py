"""The ingest-arxiv stage end to end: sample bundle, hostile bundle, metadata snapshot, local API."""

import json
import os

import pytest

from pipeline.dataset import read_stats
from pipeline.sample.arxiv.build import build
from pipeline.schema import document_id
from tests.arxiv.conftest import hostile_bundle


def _docs(spark, out):
    return {r["url"]: r.asDict() for r in spark.read.parquet(str(out)).collect()}


@pytest.mark.slow
def test_bundles_are_ingested_and_hostile_members_counted(spark, run_stage_in, data_root, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    bundle, meta = build(src)
    (src / "hostile.tar").write_bytes(hostile_bundle())
    out = data_root / "r1" / "ingest-arxiv"
    summary = run_stage_in("ingest-arxiv", [src], out, [f"ingest-arxiv.metadata_path={meta}"])
    docs = _docs(spark, out)
    # The good paper appears in both bundles: one document.
    assert sorted(docs) == ["https://arxiv.org/abs/2301.00001v2", "https://arxiv.org/abs/2301.00002v1",
                            "https://arxiv.org/abs/hep-th/9901001"]
    paper = docs["https://arxiv.org/abs/2301.00001v2"]
    assert paper["id"] == document_id("arxiv", "https://arxiv.org/abs/2301.00001v2")
    assert paper["source"] == "arxiv"
    assert "Mixtures of experts route each token" in paper["text"]  # the \input-ed section
    assert "reviewer 2" not in paper["text"] and "Outrageously large" not in paper["text"]
    meta_json = json.loads(paper["metadata"])
    assert meta_json["arxiv_id"] == "2301.00001" and meta_json["version"] == "v2"
    assert meta_json["categories"] == ["cs.CL", "cs.LG"]
    assert meta_json["title"] == paper["title"] == "Sparse Mixtures for Small Language Models"
    old_style = json.loads(docs["https://arxiv.org/abs/hep-th/9901001"]["metadata"])
    assert old_style["version"] == "v1" and old_style["categories"] == ["hep-th"]  # from the snapshot
    stats = read_stats(str(out))
    assert stats["refused"] == {"path_traversal": 1, "absolute_path": 1, "link_escape": 1,
                                "compression_ratio": 1}
    assert stats["rejected"] == {"no_latex_source": 1}
    assert summary.rows_out == 3
    rejected = spark.read.parquet(str(out / "_rejected")).collect()
    assert {r["reject_reason"] for r in rejected} >= {"path_traversal", "compression_ratio", "no_latex_source"}
    # Nothing was written next to the inputs or above the data root.
    assert sorted(os.listdir(src)) == ["arXiv_src_sample.tar", "arxiv-metadata.jsonl", "hostile.tar"]
    assert not (tmp_path / "escape.gz").exists()


@pytest.mark.slow
def test_api_feed_and_eprints_from_local_server(spark, run_stage_in, data_root, arxiv_server):
    base, seen = arxiv_server
    out = data_root / "r2" / "ingest-arxiv"
    run_stage_in("ingest-arxiv", [f"{base}/api/query?search_query=cat:cs.CL&max_results=3"], out,
                 [f"ingest-arxiv.eprint_url={base}/e-print", "ingest-arxiv.request_delay_s=0.01"])
    docs = _docs(spark, out)
    assert sorted(docs) == ["https://arxiv.org/abs/2301.00001v2", "https://arxiv.org/abs/2301.00002v1"]
    meta = json.loads(docs["https://arxiv.org/abs/2301.00002v1"]["metadata"])
    assert meta["categories"] == ["cs.CL"] and meta["primary_category"] == "cs.CL"
    stats = read_stats(str(out))
    assert stats["fetch_failed"] == {"http_error": 1} and stats["api_requests"] == 4
    assert len(seen) == 4
