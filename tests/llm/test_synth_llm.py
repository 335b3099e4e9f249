"""The synth stage through the real engine (SmolLM2-135M-Instruct on vLLM): records pass the filters and
validate, drops and token counts are in _stats.json, RL answers are the computed ones, and a rerun on the
same output answers every request from the journal (zero requests sent)."""

import json

import pytest

from pipeline.dataset import read_stats
from pipeline.synth.checkers import check
from pipeline.synth.filters import FilterConfig, text_reason
from pipeline.synth.records import validate_record
from tests.mix.docs_fixture import write_documents
from tests.synth.corpus import make_docs

SETS = ["synth.backend=openai", "synth.short_pretrain.sample_rate=1.0", "synth.short_pretrain.max_records=3",
        "synth.short_sft.sample_rate=1.0", "synth.short_sft.max_records=3", "synth.short_rl.sample_rate=1.0",
        "synth.short_rl.max_records=3", "synth.short_rl.tasks=[arithmetic]", "synth.long_sft.target_tokens=300",
        "synth.long_sft.per_group=1", "synth.long_pretrain.enabled=false", "synth.long_rl.enabled=false",
        "synth.llm.max_tokens=160", "synth.llm.temperature=0.3", "synth.llm.max_concurrency=8",
        "synth.llm_partitions=1", "synth.group_by_cluster=false", "run.val_fraction=0.2"]


def _records(out, kind):
    return [json.loads(line) for line in (out / f"{kind}.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_synth_stage_through_vllm_and_resume(vllm_server, spark, tmp_path, run_stage_in):
    src = write_documents(spark, tmp_path / "mix", make_docs(3, sentences=6))
    sets = [*SETS, f"synth.llm.endpoint={vllm_server.base_url}"]
    out = tmp_path / "synth"
    run_stage_in("synth", [src], out, sets)
    stats = read_stats(str(out))
    gens = stats["generators"]
    for name in ("short_pretrain", "short_sft", "short_rl", "long_sft"):
        g = gens[name]
        assert g["llm_requests"] > 0 and g["llm_completion_tokens"] > 0 and g["llm_tokens_per_s"] > 0, (name, g)
        assert g["dropped"] == sum(v for k, v in g.items() if k.startswith("dropped_"))
    assert sum(g["kept"] for g in gens.values()) > 0, gens
    for r in _records(out, "pretrain"):
        assert validate_record(r) is None and text_reason(r["text"], FilterConfig()) is None
    for r in _records(out, "rl"):
        assert validate_record(r) is None and check(r["checker"], f"Answer: {r['answer']}", r["answer"])
        if r["task"] == "word_problem":  # the model's question, the pipeline's computed answer
            assert "?" in r["messages"][-1]["content"] and r["checker"] == "arithmetic"
    sent = [n for n, g in gens.items() if "llm_requests" in g]

    run_stage_in("synth", [src], out, sets)  # a rerun: every response comes from the journal
    again = read_stats(str(out))["generators"]
    for name in sent:
        assert again[name]["llm_requests"] == 0 and again[name]["llm_journal_hits"] == gens[name]["llm_ok"], name
        assert again[name]["kept"] == gens[name]["kept"]
