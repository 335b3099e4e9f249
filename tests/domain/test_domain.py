"""Domain keyword rules, weak labels, the fastText domain model and the two stages."""

import pytest

from pipeline.domain.classifier import by_rules, multiclass_metrics, weak_labels
from pipeline.domain.keywords import classify, domain_scores, load_rules, parse_rules
from pipeline.errors import UsageError
from pipeline.quality.fasttext_model import FastTextSettings, predict, split_heldout, train
from tests.domain.corpus import topical_documents

RULES = load_rules()


@pytest.mark.parametrize(("text", "domain", "rule"), [
    ("Preheat the oven, mix flour and butter, then simmer the sauce for this recipe.", "cooking", "keyword:"),
    ("The coach said the league season ends with a tournament in the new stadium.", "sports", "keyword:"),
    ("我们的球队在足球联赛中获得了冠军，教练非常高兴。", "sports", "keyword:"),
    ("Investors sold stocks and bonds as inflation rose and the dividend was cut.", "finance", "keyword:"),
])
def test_keyword_rules_label_and_name_the_rule(text, domain, rule):
    label = classify(text, RULES)
    assert label.domain == domain and label.rule.startswith(rule) and label.score >= RULES.min_score


def test_no_keywords_means_no_domain_and_rules_fallback():
    assert classify("A quiet afternoon went by.", RULES).domain is None
    batch = by_rules(["A quiet afternoon went by.", "Add the garlic to the sauce recipe and simmer."], RULES, "other")
    assert batch.domains == ["other", "cooking"]
    assert batch.rules[0] is None and batch.rules[1].startswith("keyword:cooking:")


def test_margin_and_min_score_from_yaml():
    spec = {"domains": {"a": {"keywords": {"apple": 1}}, "b": {"patterns": {r"\bbanana\b": 2}}}}
    scores, fired = domain_scores("apple banana pear", parse_rules(spec))
    assert scores == {"a": pytest.approx(100 / 3), "b": pytest.approx(200 / 3)}
    assert fired["b"] == r"pattern:\bbanana\b"
    assert classify("apple banana pear", parse_rules({**spec, "min_score": 66, "min_margin": 33})).domain == "b"
    assert classify("apple banana pear", parse_rules({**spec, "min_score": 67})).domain is None
    assert classify("apple banana pear", parse_rules({**spec, "min_margin": 34})).domain is None
    tie = parse_rules({"domains": {"a": {"keywords": {"x": 1}}, "b": {"keywords": {"y": 1}}}})
    assert classify("x y", tie).domain is None  # a tie is not a label


def test_bad_rules_are_usage_errors():
    with pytest.raises(UsageError):
        parse_rules({"domains": {}})
    with pytest.raises(UsageError):
        parse_rules({"domains": {"a": {"patterns": {"(": 1}}}})


def test_weak_labels_train_a_model_that_generalises():
    docs = topical_documents(40)
    rows, info = weak_labels([t for _, t in docs], RULES, min_per_label=5)
    assert set(info["labelled"]) == {"cooking", "sports", "finance"}
    truth = dict((t, topic) for topic, t in docs)
    assert sum(truth[t] == label for label, t in rows) / len(rows) > 0.95  # weak labels are mostly right
    train_rows, held = split_heldout(rows, 0.25, seed=2)
    model = train(train_rows, FastTextSettings(), seed=2)
    pred, _ = predict(model, [t for _, t in held])
    assert multiclass_metrics([lab for lab, _ in held], pred)["accuracy"] >= 0.8


def test_multiclass_metrics():
    m = multiclass_metrics(["a", "a", "b"], ["a", "b", "b"])
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["per_label"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}


@pytest.mark.slow
def test_domain_stages_rules_train_and_model(spark, data_root, run_stage_in):
    from pipeline.dataset import read_stats
    from tests.quality.test_quality_stages import write_docs

    run = data_root / "d"
    docs = topical_documents(30, seed=5)
    write_docs(spark, run / "docs", [t for _, t in docs] + ["Nothing to see here at all."])
    s = run_stage_in("domain", [run / "docs"], run / "domain-rules")
    rows = spark.read.parquet(s.output).collect()
    assert read_stats(s.output)["method"] == "rules"
    assert {r["domain"] for r in rows} == {"cooking", "sports", "finance", "other"}
    assert all(r["domain_rule"].startswith(f"keyword:{r['domain']}:") for r in rows if r["domain"] != "other")

    run_stage_in("train-domain", [run / "docs"], run / "train-domain")
    assert read_stats(str(run / "train-domain"))["heldout"]["accuracy"] >= 0.8
    s = run_stage_in("domain", [run / "docs"], run / "domain",
                     [f"domain.model={run / 'train-domain' / 'model.bin'}"])
    truth = {t: topic for topic, t in docs}
    rows = [r for r in spark.read.parquet(s.output).collect() if r["text"] in truth]
    assert sum(r["domain"] == truth[r["text"]] for r in rows) / len(rows) >= 0.9
    assert {r["domain_rule"] for r in rows} <= {"fasttext", None}
