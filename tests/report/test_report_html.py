"""The report of a demo-like run: every section present, its numbers equal to the catalog's, self-contained."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.report.html import SECTIONS
from tests.report.demo_run import EVAL, LOSSES, RUN, VAL, build_demo_run, stats_for
from tests.report.html_tables import parse_report


def _catalog_rows(catalog, sql: str) -> list[dict]:
    cols, rows = catalog.query(sql, {"run_id": RUN})
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_every_section_is_there_in_order_with_a_figure(built_report):
    page = parse_report(built_report["html"])
    assert page.sections == [sid for sid, _ in SECTIONS]
    assert {img["id"] for img in page.images} == {f"fig-{sid}" for sid, _ in SECTIONS if sid != "evaluation"}
    assert 'class="note"' not in built_report["html"]  # nothing is missing for this run


def test_funnel_numbers_are_the_catalogs(built_report):
    # straight from the catalog's tables, not through the report's own queries
    expected = _catalog_rows(built_report["catalog"], "SELECT stage, rows_in, rows_out FROM stage_outputs "
                                                      "WHERE run_id = :run_id ORDER BY started_at")
    funnel = parse_report(built_report["html"]).tables["table-funnel"]
    assert [r["stage"] for r in funnel] == [e["stage"] for e in expected]
    for row, e in zip(funnel, expected, strict=True):
        assert (row["rows in"], row["rows out"]) == (e["rows_in"], e["rows_out"])
        assert row["dropped"] == e["rows_in"] - e["rows_out"]
    filter_row = next(r for r in funnel if r["stage"] == "filter")
    for reason, n in stats_for("filter")["dropped"].items():
        if n:
            assert f"{reason}: {n}" in filter_row["drop / reject reasons"]
    reasons = _catalog_rows(built_report["catalog"], "SELECT stage, name, value FROM stage_stats WHERE run_id = "
                                                     ":run_id AND (name LIKE 'dropped.%' OR name LIKE 'rejected.%')")
    shown = {(r["stage"], r["reason"]): r["documents"]
             for r in parse_report(built_report["html"]).tables["table-drop-reasons"]}
    assert shown == {(r["stage"], r["name"].split(".", 1)[1]): r["value"] for r in reasons}


def test_mix_dedup_synth_token_numbers_are_the_catalogs(built_report):
    tables = parse_report(built_report["html"]).tables
    stats = {(r["stage"], r["name"]): r["value"] for r in _catalog_rows(
        built_report["catalog"], "SELECT stage, name, value FROM stage_stats WHERE run_id = :run_id")}
    for row in tables["table-mix"]:
        g = row["group"]
        assert row["tokens in"] == stats[("mix", f"groups.{g}.tokens_in")]
        assert row["tokens out"] == stats[("mix", f"groups.{g}.tokens_out")]
        assert row["effective epochs"] == pytest.approx(stats[("mix", f"groups.{g}.effective_epochs")])
        assert row["share after"] == pytest.approx(stats[("mix", f"groups.{g}.share_after")])
    assert {r["group"] for r in tables["table-mix"]} == set(stats_for("mix")["groups"])
    for row in tables["table-dedup"]:
        assert row["clusters"] == stats[(row["stage"], f"cluster_size_histogram.{row['cluster size']}")]
    assert len(tables["table-dedup"]) == 4
    for row in tables["table-synth"]:
        assert row["kept"] == stats[("synth", f"generators.{row['generator']}.kept")]
    assert {r["generator"] for r in tables["table-synth"]} == set(stats_for("synth")["generators"])
    for row in tables["table-tokens"]:
        assert row["tokens"] == stats[("tokenize", f"tokens_by_domain.{row['split']}.{row['domain']}")]
    totals = {r["total"]: r["value"] for r in tables["table-token-totals"]}
    assert totals["tokens.train"] == 40500 and totals["tokens.val"] == 1500
    assert sum(r["tokens"] for r in tables["table-tokens"]) == totals["tokens.train"] + totals["tokens.val"]


def test_histograms_training_and_evaluation(built_report):
    tables = parse_report(built_report["html"]).tables
    quality = {r["stage"]: r for r in tables["table-quality"]}
    assert quality["domain"]["rows"] == quality["domain"]["sampled"] == 63  # `_rejected/` is not read
    assert quality["filter"]["rows"] == 40
    langs = {(r["dataset"], r["language"]): r["documents (sample)"] for r in tables["table-language"]}
    assert langs[("normalized", "en")] == 45 and langs[("normalized", "zh")] == 6
    mix_langs = sum(v for (d, _), v in langs.items() if d.startswith("curated"))
    assert mix_langs == 32  # mix repeats counted once
    training = {r["metric"]: r["value"] for r in tables["table-training"]}
    assert training["final train loss"] == LOSSES[-1][1] and training["final val loss"] == VAL[-1][1]
    assert training["steps"] == LOSSES[-1][0]
    ev = tables["table-evaluation"]
    assert [r["variant"] for r in ev] == ["fp32", "int8", "int4-gptq"]  # contract order, not file order
    by_variant = {v["variant"]: v for v in EVAL["variants"]}
    for row in ev:
        v = by_variant[row["variant"]]
        assert row["token perplexity"] == pytest.approx(v["token_perplexity"])
        assert row["model bytes"] == v["model_bytes"]
        assert row["exact match"] == (None if v["exact_match"] is None else pytest.approx(v["exact_match"]))


def test_page_is_self_contained_and_its_images_decode(built_report):
    html = built_report["html"]
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", html)  # only data: URIs and in-page anchors
    for img in parse_report(html).images:
        png = Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1])))
        png.load()
        assert png.size == (int(img["width"]), int(img["height"]))


def test_record_eval_then_report_reads_the_catalog_and_absent_parts_are_said(demo, tmp_path, capsys):
    root = str(demo["data_root"])
    assert main(["catalog", "record-eval", "--run", RUN, "--report", str(demo["eval_report"]),
                 "--data-root", root]) == 0
    assert "recorded 3 evaluated variant(s)" in capsys.readouterr().out
    (demo["training_dir"] / "metrics.jsonl").unlink()
    out = tmp_path / "r.html"
    assert main(["report", "--run", RUN, "--data-root", root, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {out}"
    page = parse_report(out.read_text())
    assert [r["variant"] for r in page.tables["table-evaluation"]] == ["fp32", "int8", "int4-gptq"]
    assert "no metrics.jsonl in" in out.read_text() and "table-training" not in page.tables
    # an evaluation report that is absent is said in its section, never a failed report
    assert main(["report", "--run", RUN, "--data-root", root, "--out", str(out),
                 "--eval-report", str(tmp_path / "missing.json")]) == 0
    assert "evaluation report unusable" in out.read_text()


def test_a_run_with_data_stages_only(sqlite_catalog, data_root, monkeypatch, capsys):
    build_demo_run(sqlite_catalog, data_root, monkeypatch)
    with sqlite_catalog.connect() as conn:  # a run stopped before mix: no mix, synth, tokens stats
        sqlite_catalog.execute(conn, "DELETE FROM stage_stats WHERE stage IN ('mix', 'synth', 'tokenize')")
    import shutil

    shutil.rmtree(data_root / RUN / "pretrain")
    assert main(["report", "--run", RUN, "--data-root", str(data_root)]) == 0
    html = (data_root / RUN / "report.html").read_text()
    for text in ("no `mix` stage stats", "no `synth` stage stats", "no `tokenize` stage stats",
                 "no training run found", "no evaluation recorded"):
        assert text in html


def test_user_errors(data_root, capsys, tmp_path):
    assert main(["report", "--run", "nope", "--data-root", str(data_root)]) == 2
    assert "run 'nope' is not in the catalog" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"metric": "token_perplexity", "variants": [{"token_perplexity": 3.0}]}))
    assert main(["catalog", "record-eval", "--run", RUN, "--report", str(bad), "--data-root", str(data_root)]) == 2
    assert "needs a 'variant' name" in capsys.readouterr().err
