"""Filter planning (order, skipped sets, user limits) and 13-gram decontamination."""

import json

import pytest

from pipeline.errors import UsageError
from pipeline.filter.decontaminate import eval_ngrams, ngram_hashes, overlap, read_jsonl
from pipeline.filter.rules import FilterConfig, first_failure, plan
from pipeline.score import c4, fineweb, gopher, gopher_repetition

ALL = gopher_repetition.COLUMNS + gopher.COLUMNS + c4.COLUMNS + fineweb.COLUMNS


def test_plan_orders_rule_sets_and_skips_missing_columns():
    p = plan(FilterConfig(), ALL + ["rule_user_spam", "domain"])
    rules = [t.rule for t in p.thresholds]
    assert rules.index("gopher_rep_dup_line_frac") < rules.index("gopher_min_words") < rules.index(
        "c4_min_sentences") < rules.index("fineweb_line_punct_ratio") < rules.index("user_spam")
    assert p.skipped == ["quality"]


def test_first_failure_is_the_reason_and_nulls_pass():
    p = plan(FilterConfig(), ["rule_gopher_words", "rule_c4_sentences", "quality_score"])
    assert first_failure({"rule_gopher_words": 10, "rule_c4_sentences": 1, "quality_score": 0.9}, p) == \
        "gopher_min_words"
    assert first_failure({"rule_gopher_words": None, "rule_c4_sentences": 1}, p) == "c4_min_sentences"
    assert first_failure({"rule_gopher_words": 60, "rule_c4_sentences": 5, "quality_score": 0.49, "lang": "en"}, p) == \
        "quality_score"
    assert first_failure({"rule_gopher_words": 60, "rule_c4_sentences": 5, "quality_score": 0.5, "lang": "en"}, p) is None


def test_quality_threshold_only_for_configured_languages():
    p = plan(FilterConfig(), ["quality_score", "lang"])
    assert first_failure({"quality_score": 0.1, "lang": "en"}, p) == "quality_score"
    assert first_failure({"quality_score": 0.1, "lang": "zh"}, p) is None
    p = plan(FilterConfig(quality_languages=[]), ["quality_score", "lang"])
    assert first_failure({"quality_score": 0.1, "lang": "zh"}, p) == "quality_score"


def test_user_limits_from_yaml_and_overrides(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("rules:\n  - {name: spam, pattern: x, max_matches: 3}\n")
    p = plan(FilterConfig(user_rules=str(path)), ["rule_user_spam", "rule_user_other"])
    limits = {t.rule: t.limit for t in p.thresholds}
    assert limits == {"user_spam": 3.0, "user_other": 0.0}
    p = plan(FilterConfig(user_max_matches={"other": 2}), ["rule_user_other"])
    assert p.thresholds[0].limit == 2


def test_domain_allow_list():
    p = plan(FilterConfig(rule_sets=[], keep_domains=["science"]), ["domain"])
    assert first_failure({"domain": "sports"}, p) == "domain_not_kept"
    assert first_failure({"domain": "science"}, p) is None


def test_unknown_rule_set_is_refused():
    with pytest.raises(UsageError):
        plan(FilterConfig(rule_sets=["gopher", "typo"]), ALL)


EVAL = "The quick brown fox jumps over the lazy dog while the farmer watches from the old red barn."


def test_13gram_overlap_ignores_case_and_punctuation():
    grams, stats = eval_ngrams([{"question": EVAL}, {"text": "too short to matter"}], ["text", "question"])
    assert stats["items"] == 2 and stats["shorter_than_n"] == 1 and stats["ngrams"] == 6  # 18 words
    leaked = "Intro text. " + EVAL.upper().replace(",", "") + " More text follows."
    assert overlap(leaked, grams) >= 1
    twelve = " ".join(EVAL.split()[:12])  # one word short of a 13-gram
    assert overlap("Prefix words " + twelve + " and then different words entirely here.", grams) == 0


def test_13gram_on_chinese_counts_characters():
    zh = "我们的研究是关于大型语言模型的数据处理方法和评测"
    grams, _ = eval_ngrams([{"text": zh}], ["text"])
    assert overlap("前言：" + zh[2:16] + "。", grams) >= 1
    assert ngram_hashes("短文本", 13) == set()


def test_read_jsonl_skips_bad_lines():
    lines = [json.dumps({"text": "a"}), "not json", "", json.dumps([1, 2])]
    assert list(read_jsonl(lines)) == [{"text": "a"}]


@pytest.mark.slow
def test_decontaminate_stage(spark, data_root, run_stage_in, tmp_path):
    from pipeline.dataset import read_stats
    from tests.quality.test_quality_stages import write_docs

    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text(json.dumps({"prompt": EVAL, "answer": "yes"}) + "\nbroken line\n")
    write_docs(spark, data_root / "x" / "docs", ["Clean document about something else entirely, with words.",
                                                 "Leak: " + EVAL])
    s = run_stage_in("decontaminate", [data_root / "x" / "docs"], data_root / "x" / "decon",
                     [f"decontaminate.eval_path={eval_file}"])
    assert s.rows_out == 1
    rejected = spark.read.parquet(f"{s.output}/_rejected").collect()
    assert [r["reject_reason"] for r in rejected] == ["decontaminate_13gram_eval"] and rejected[0]["decon_matches"] >= 1
    stats = read_stats(s.output)
    assert stats["dropped"] == {"decontaminate_13gram_eval": 1, "decontaminate_13gram_gsm8k_test": 0,
                                "decontaminate_13gram_heldout_text": 0}
    assert stats["eval"]["eval"]["items"] == 1 and stats["eval"]["gsm8k_test"]["items"] == 1319
    assert stats["eval"]["heldout_text"]["items"] > 0


@pytest.mark.slow
def test_decontaminate_checks_every_eval_set_by_default(spark, data_root, run_stage_in, tmp_path):
    """GSM8K test is checked with no configuration; a task file given by path is checked too, and each
    set's drops are counted apart."""
    import gzip

    from pipeline.dataset import read_stats
    from pipeline.jobs.decontaminate import BUNDLED_EVAL
    from tests.quality.test_quality_stages import write_docs

    with gzip.open(BUNDLED_EVAL / "gsm8k_test.jsonl.gz", "rt") as f:
        gsm = json.loads(f.readline())["question"]
    task = tmp_path / "task.jsonl"
    task.write_text(json.dumps({"query": EVAL}) + "\n")
    write_docs(spark, data_root / "y" / "docs", ["A forum post copying a benchmark item: " + gsm,
                                                 "Leak: " + EVAL, "Leak again: " + EVAL,
                                                 "Clean document about something else entirely, with words."])
    s = run_stage_in("decontaminate", [data_root / "y" / "docs"], data_root / "y" / "decon",
                     [f"decontaminate.eval_sets.task={task}"])
    assert s.rows_out == 1
    stats = read_stats(s.output)
    assert stats["dropped"] == {"decontaminate_13gram_gsm8k_test": 1, "decontaminate_13gram_task": 2,
                                "decontaminate_13gram_heldout_text": 0}
    assert stats["dropped_total"] == 3
