import json

import pytest

from pipeline.mix.tokens import estimate_tokens
from pipeline.synth import long_pretrain, long_rl, long_sft, short_pretrain, short_rl, short_sft
from pipeline.synth.checkers import check, final_answer, reward
from pipeline.synth.generator import TemplateGenerator, parse_sft_pair
from pipeline.synth.records import FORMAT, validate_record
from tests.synth.corpus import make_docs


def test_checkers_accept_right_and_reject_wrong_answers():
    assert check("arithmetic", "so 12 * 3 = 36.\nAnswer: 36", "36")
    assert not check("arithmetic", "Answer: 35", "36")
    assert check("unit_conversion", "Answer: 1.6093 km", "1.609344")
    assert not check("unit_conversion", "Answer: 1.7 km", "1.609344")
    assert check("fact_extraction", "The answer: 1,204", "1,204")
    assert not check("fact_extraction", "Answer: 1,205", "1,204")
    assert check("exact_match", "\\boxed{4417723}", "4417723")
    assert not check("exact_match", "Answer: 4417724", "4417723")
    assert final_answer("blah Answer: 'x'.") == "x"
    with pytest.raises(ValueError):
        check("nope", "a", "b")


def test_every_short_rl_item_passes_its_checker_and_a_wrong_answer_fails():
    records, counts = short_rl.generate(make_docs(6), short_rl.ShortRlConfig(), seed=7)
    assert counts["records"] == len(records) == 12
    assert {r["checker"] for r in records} == {"arithmetic", "unit_conversion", "fact_extraction"}
    for r in records:
        assert validate_record(r) is None and r["format"] == FORMAT and r["source"] == "synthetic"
        assert reward(r, f"Thinking... Answer: {r['answer']}") == 1.0
        wrong = str(float(r["answer"].replace(",", "")) * 3 + 7)
        assert reward(r, f"Answer: {wrong}") == 0.0
        if r["checker"] == "fact_extraction":
            assert r["answer"] in r["messages"][-1]["content"]  # the fact is in the quoted document
        json.loads(json.dumps(r))  # self-describing JSON, nothing exotic


def test_short_rl_is_deterministic():
    a, _ = short_rl.generate(make_docs(3), short_rl.ShortRlConfig(), seed=1)
    b, _ = short_rl.generate(make_docs(3), short_rl.ShortRlConfig(), seed=1)
    assert a == b


def test_long_pretrain_reaches_target_and_uses_each_doc_once():
    cfg = long_pretrain.LongPretrainConfig(target_tokens=600)
    docs = make_docs(10)
    records, counts = long_pretrain.generate(docs, cfg, seed=3, group="g")
    assert records
    used = [i for r in records for i in r["source_ids"]]
    assert len(used) == len(set(used))
    assert len(used) + counts["docs_left_over"] == len(docs)
    for r in records:
        assert estimate_tokens(r["text"]) >= 600


def test_long_rl_needle_appears_exactly_once_and_context_reaches_target():
    cfg = long_rl.LongRlConfig(target_tokens=2000, per_group=6)
    records, _ = long_rl.generate(make_docs(5), cfg, seed=5, group="g")
    assert len(records) == 6
    assert {r["task"] for r in records} == {"needle", "multi_key"}
    for r in records:
        prompt = r["messages"][-1]["content"]
        assert prompt.count(r["answer"]) == 1
        assert r["context_tokens_estimate"] >= 2000
        assert check(r["checker"], r["answer"], r["answer"]) and not check(r["checker"], "1234567x", r["answer"])


def test_long_sft_gold_document_holds_the_answer_among_distractors():
    cfg = long_sft.LongSftConfig(target_tokens=800, per_group=3)
    records, _ = long_sft.generate(make_docs(8), cfg, seed=2, group="g")
    assert len(records) == 3
    for r in records:
        answer = r["messages"][-1]["content"].rsplit(" ", 1)[-1].rstrip(".")
        docs = r["messages"][0]["content"].split("Document [")[1:]
        holding = [i + 1 for i, d in enumerate(docs) if answer in d]
        assert holding == [r["gold_position"]] and len(r["source_ids"]) >= 2


def test_template_backend_rephrases_and_makes_sft_pairs():
    docs = make_docs(2)
    pre, c1 = short_pretrain.generate(docs, short_pretrain.ShortPretrainConfig(), TemplateGenerator(), seed=0)
    sft, c2 = short_sft.generate(docs, short_sft.ShortSftConfig(), TemplateGenerator(), seed=0)
    assert c1["records"] == c2["records"] == 4
    assert all(r["kind"] == "pretrain" and r["text"] and r["source_ids"] for r in pre)
    assert all(r["messages"][-1]["role"] == "assistant" for r in sft)
    assert parse_sft_pair("```json\n{\"instruction\": \"a\", \"response\": \"b\"}\n```") == ("a", "b")
    assert parse_sft_pair("not json") is None and parse_sft_pair('{"instruction": "a"}') is None
