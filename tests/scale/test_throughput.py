"""benchmarks/throughput.py: the DAG's stage order, a 2-stage run on a 20-document corpus, the table."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.throughput import STEPS, format_table, run_factor, select  # noqa: E402
from pipeline.schema import DOCUMENT_SCHEMA  # noqa: E402


def _dag_steps() -> list[tuple[str, tuple[str, ...]]]:
    """(stage, reads) of every StageStep in the data DAG file, read without importing Airflow."""
    tree = ast.parse((REPO / "dags" / "llm_data_pipeline.py").read_text())
    steps = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "StageStep":
            reads = next((ast.literal_eval(k.value) for k in node.keywords if k.arg == "reads"), ())
            steps.append((node.args[0].value, tuple(reads)))
    return steps


def test_steps_are_the_data_dags_stages_from_normalize_on_in_order():
    dag = _dag_steps()
    names = [s for s, _ in dag]
    tail = dag[names.index("normalize"):]
    assert [s.stage for s in STEPS] == [s for s, _ in tail]
    assert [s.reads for s in STEPS[1:]] == [r for _, r in tail[1:]]  # normalize reads the corpus instead


def test_select_rewires_a_subset_onto_the_last_chosen_stage():
    steps = select(["normalize", "dedup-exact", "tokenize"])
    assert [(s.stage, s.reads) for s in steps] == [
        ("normalize", ("input",)), ("dedup-exact", ("normalize",)), ("tokenize", ("dedup-exact",))]
    assert steps[-1].folder == "tokens"


def _corpus(path: Path) -> Path:
    """20 documents, 2 of them exact copies of others (dedup-exact must drop those 2)."""
    texts = [" ".join(f"word{i}x{j} common{j % 7}" for j in range(60)) + "." for i in range(18)]
    texts += texts[:2]
    rows = [{"id": f"d{i:02d}", "text": t, "source": "web", "url": f"http://x/{i}", "title": None,
             "lang": "en", "lang_score": 1.0, "fetched_at": None, "metadata": None} for i, t in enumerate(texts)]
    path.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), path / "docs.parquet")
    (path / "_SUCCESS").touch()
    return path


def test_two_stages_on_a_20_document_corpus(spark, tmp_path, data_root):
    corpus = _corpus(tmp_path / "corpus" / "1x")
    mb = sum(len(r.encode()) for r in pq.read_table(corpus / "docs.parquet")["text"].to_pylist()) / 1e6
    result = run_factor(spark, corpus, tmp_path / "work" / "1x", select(["normalize", "dedup-exact"]), 2)
    assert [(r["stage"], r["docs_in"], r["rows_out"], r["error"]) for r in result["full"]] == [
        ("normalize", 20, 20, ""), ("dedup-exact", 20, 18, "")]
    assert [(r["stage"], r["docs_in"]) for r in result["tiny"]] == [("normalize", 10), ("dedup-exact", 10)]
    assert abs(result["full"][0]["mb_in"] - mb) < 1e-9
    table = format_table({1: result}, cores=2).splitlines()
    assert [line.split(" | ")[:3] for line in table[2:]] == [
        ["| normalize", "1x", "20"], ["| dedup-exact", "1x", "20"], ["| **all stages**", "1x", "20"]]


def _result(seconds: dict[str, float], startup: float, error: str = "") -> dict:
    full = [{"stage": s, "docs_in": 100, "mb_in": 1.0, "seconds": t, "rows_out": 100, "error": ""}
            for s, t in seconds.items()]
    if error:
        full[-1]["error"] = error
    tiny = [{"stage": s, "docs_in": 10, "mb_in": 0.1, "seconds": startup, "rows_out": 10, "error": ""}
            for s in seconds]
    return {"session_seconds": 5.0, "tiny": tiny, "full": full}


def test_table_ratio_excludes_start_up_and_marks_the_goal():
    results = {1: _result({"a": 12.0, "b": 12.0, "d": 2.5, "c": 3.0}, 2.0),
               16: _result({"a": 172.0, "b": 202.0, "d": 17.0, "c": 99.0}, 2.0, error="Py4JJavaError: OOM | heap")}
    rows = {(c[0][2:], c[1]): c for c in (line.split(" | ") for line in format_table(results, cores=2).splitlines()[2:])}
    assert rows[("a", "16x")][9:12] == ["14.33", "17.00", "ok |"]  # 172/12, (172-2)/(12-2)
    assert rows[("b", "16x")][9:12] == ["16.83", "20.00", "over |"]
    assert rows[("a", "1x")][6:9] == ["10.0", "5.0", "0.05"]  # work s; 100 docs / 10 s / 2 cores; 1 MB
    assert rows[("d", "1x")][6:8] == ["0.5", "-"]  # all start-up: no rate
    assert rows[("d", "16x")][9:12] == ["6.80", "-", "ok (total) |"]  # 0.5 s of 1x work is noise: judged on 17/2.5
    assert "failed after 99 s: Py4JJavaError: OOM / heap" in rows[("c", "16x")][4]
    assert rows[("**all stages** (failed: c)", "16x")][4:7] == ["490.0", "8.0 (+ session 5.0)", "482.0"]
    results[16]["full"] = results[16]["full"][:2]  # a factor killed after its second stage
    last = format_table(results, cores=2).splitlines()[-1]
    assert last.startswith("| **all stages** (stopped after b: 2 of 4 stages) | 16x | 100 |")
