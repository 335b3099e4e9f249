"""The experiments table on SQLite and PostgreSQL: recording runs (a rerun replaces its row), the runs
files the fit and the ablation statistics read, and the experiments report's sections; held-out bits
per byte on a model whose answer is known."""

from __future__ import annotations

import json
import math
import os
import uuid

import pytest

from pipeline import experiments
from pipeline.catalog import Catalog

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'c.sqlite'}"
        return
    import psycopg2

    try:
        admin = psycopg2.connect(PG_BASE, connect_timeout=3)
    except psycopg2.OperationalError as e:
        if os.environ.get("PIPELINE_NO_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL not reachable: {e}")
        raise
    schema = f"experiments_test_{uuid.uuid4().hex[:8]}"
    admin.autocommit = True
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def test_record_and_export_runs(catalog_url, tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"step": 10, "loss": 3.2}\n{"step": 10, "val_loss": 3.5}\n')
    base = ["record", "--experiment", "e1", "--url", catalog_url, "--metrics", str(metrics)]
    assert experiments.main([*base, "--name", "a", "--kind", "sweep", "--params", "1000", "--tokens", "50"]) == 0
    metrics.write_text('{"step": 20, "val_loss": 3.0}\n')
    assert experiments.main([*base, "--name", "a", "--kind", "sweep", "--params", "1000", "--tokens", "100"]) == 0
    assert experiments.main([*base, "--name", "b", "--kind", "sweep", "--params", "2000", "--tokens", "100"]) == 0
    for seed, bpb in enumerate((1.5, 1.6, 1.4)):
        heldout = tmp_path / f"h{seed}.json"
        heldout.write_text(json.dumps({"bits_per_byte": bpb}))
        assert experiments.main([*base, "--name", f"v-s{seed}", "--kind", "ablation", "--variant", "v",
                                 "--seed", str(seed), "--heldout", str(heldout)]) == 0
    out = tmp_path / "runs.csv"
    assert experiments.main(["runs-csv", "--experiment", "e1", "--kind", "sweep", "--url", catalog_url,
                             "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "params,tokens,loss,flops,name" and len(lines) == 3  # the rerun of "a" replaced its row
    assert lines[1].split(",")[:3] == ["1000", "100", "3.0"] and float(lines[1].split(",")[3]) == 6e5
    assert experiments.main(["runs-csv", "--experiment", "e1", "--kind", "ablation", "--url", catalog_url,
                             "--out", str(out)]) == 0
    assert sorted(float(r.split(",")[2]) for r in out.read_text().splitlines()[1:]) == [1.4, 1.5, 1.6]
    assert Catalog(catalog_url).query("SELECT COUNT(*) FROM experiments")[1][0][0] == 5


def test_missing_metrics_is_one_line_and_status_2(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    assert experiments.main(["record", "--experiment", "e", "--name", "a", "--url", url,
                             "--metrics", str(tmp_path / "nope.jsonl")]) == 2
    assert "no metrics file" in capsys.readouterr().err


def test_report_shows_the_fit_the_check_and_the_ablation(tmp_path):
    from pipeline.report.experiments import render

    (tmp_path / "fit").mkdir()
    (tmp_path / "check").mkdir()
    (tmp_path / "fit" / "fit.json").write_text(json.dumps({
        "E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28, "runs": 9, "rms_log_residual": 0.01,
        "budget": 1e12, "N_opt": 1e5, "D_opt": 1.6e6, "isoflop": {"N_opt": 9e4, "D_opt": 1.8e6}}))
    (tmp_path / "check" / "check.json").write_text(json.dumps({
        "budget": 1e12, "params": 1e5, "tokens": 1.6e6, "predicted_loss": 2.0, "actual_loss": 2.05,
        "relative_error": 0.024, "goal": 0.03, "within_goal": True}))
    (tmp_path / "ablation.json").write_text(json.dumps({
        "metric": "heldout_bpb", "noise_rule": "|delta| > 2 x Welch standard error",
        "variants": [{"variant": "dedup", "seeds": 3, "mean": 1.5, "std": 0.01}],
        "differences": [{"a": "dedup", "b": "raw", "delta": -0.1, "stderr": 0.01, "exceeds_noise": True}]}))
    html = render("e1", tmp_path, {"sweep": [{"name": "r", "params": 1e5, "tokens": 1e6, "flops": 6e11,
                                              "loss": 2.1}]})
    for marker in ('id="fit-table"', 'id="optimum-table"', 'id="sweep-runs"', "within the 3% goal",
                   'id="ablation-table"', "1.5000 ± 0.0100", "exceeds noise"):
        assert marker in html, marker


def test_bits_per_byte_of_a_uniform_model_is_log2_vocab_per_byte():
    import torch

    from tests.trainer.token_fixture import make_documents, train_tokenizer
    from trainer.experiments.heldout import bits_per_byte

    texts = make_documents(5, seed=1)
    tok = train_tokenizer(texts, 300)
    vocab = tok.get_vocab_size()

    def uniform(x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*x.shape, vocab)

    bpb, tokens, nbytes = bits_per_byte(uniform, tok, texts, seq_len=16)
    assert nbytes < sum(len(t.encode()) for t in texts)  # each document's first token is not scored
    assert bpb == pytest.approx(tokens * math.log2(vocab) / nbytes)
