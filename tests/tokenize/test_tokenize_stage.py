"""mix -> synth -> tokenize on a tiny corpus; shards decode back to the mixed documents exactly."""

import json
from collections import Counter

import pytest

from pipeline.dataset import read_stats
from pipeline.synth.checkers import check
from pipeline.tokenize.shards import documents_of
from tests.mix.docs_fixture import write_documents
from tests.synth.corpus import make_docs


@pytest.mark.slow
def test_mix_synth_tokenize_round_trip(spark, tmp_path, run_stage_in):
    docs = make_docs(12)
    docs[0]["text"] += " ends with <|endoftext|> inside."  # must not become a real EOS
    src = write_documents(spark, tmp_path / "curated", docs)
    run_stage_in("mix", [src], tmp_path / "mix", ["mix.weights={science: 0.75, history: 0.25}"])
    synth_sets = ["synth.short_pretrain.sample_rate=0.5", "synth.short_sft.sample_rate=0.5",
                  "synth.short_rl.sample_rate=1.0", "synth.long_pretrain.target_tokens=400",
                  "synth.long_sft.target_tokens=400", "synth.long_rl.target_tokens=600",
                  "synth.long_rl.per_group=2", "synth.long_sft.per_group=2", "synth.llm_partitions=1"]
    run_stage_in("synth", [tmp_path / "mix"], tmp_path / "synth", [*synth_sets, "run.val_fraction=0.3"])
    sstats = read_stats(str(tmp_path / "synth"))
    assert set(sstats["generators"]) == {"short_pretrain", "short_sft", "short_rl", "long_pretrain",
                                         "long_sft", "long_rl"}
    assert all(g["kept"] > 0 for g in sstats["generators"].values()), sstats["generators"]
    summary = run_stage_in("tokenize", [tmp_path / "mix", tmp_path / "synth"], tmp_path / "tokens",
                           ["tokenize.vocab_size=600", "run.val_fraction=0.3", "tokenize.shard_tokens=3000"])
    out = tmp_path / "tokens"
    index = json.loads((out / "index.json").read_text())
    assert index["format"] == "llm-pipeline-tokens/1" and index["dtype"] == "uint16"
    assert index["eos_id"] == 0 and (out / index["tokenizer"]).is_file()
    files = [s["file"] for s in index["shards"]]
    assert "train-00000.bin" in files and "train-00001.bin" in files and "val-00000.bin" in files

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    decoded = {"train": Counter(), "val": Counter()}
    for s in index["shards"]:
        for ids in documents_of(out, s, index["dtype"]):
            assert 0 not in ids  # EOS only between documents
            decoded[s["split"]][tok.decode(ids.tolist(), skip_special_tokens=False)] += 1
    mixed = spark.read.parquet(str(tmp_path / "mix")).select("text").collect()
    synth = spark.read.parquet(str(tmp_path / "synth" / "pretrain")).select("text").collect()
    expected = Counter(r["text"].replace("<|endoftext|>", "") for r in mixed + synth)
    assert decoded["train"] + decoded["val"] == expected
    assert decoded["val"] and not set(decoded["val"]) & set(decoded["train"])  # split by document
    assert summary.rows_out == sum(expected.values())
    stats = read_stats(str(out))
    marker = "<|endoftext|>"  # doc 0's copy 0 and every synthetic text made from it
    originals = spark.read.parquet(str(tmp_path / "mix")).filter("mix_copy = 0").select("text").collect()
    assert stats["special_token_text_removed"] == sum(r["text"].count(marker) for r in originals + synth) >= 1

    sft_index = json.loads((out / "sft" / "index.json").read_text())
    sft_lines = [json.loads(x) for x in (out / "sft.jsonl").read_text().splitlines()]
    assert sft_lines and all(x["text"] == x["prompt"] + x["completion"] for x in sft_lines)
    assert sum(s["num_docs"] for s in sft_index["shards"]) == len(sft_lines)
    rl = [json.loads(x) for x in (out / "rl.jsonl").read_text().splitlines()]
    assert {r["generator"] for r in rl} == {"short_rl", "long_rl"}
    assert {r["split"] for r in rl} == {"train", "val"} and stats["rl_val_prompts"] >= 1  # held out for eval
    assert {x["split"] for x in sft_lines} == {"train", "val"}
    for r in rl:
        assert check(r["checker"], f"Answer: {r['answer']}", r["answer"], r["tolerance"])
        assert r["prompt_text"].endswith("<|im_start|>assistant\n")

    # held out means held out: sources of train records are train documents, and no 13-gram of a val
    # document (outside text several documents share) is in the decoded train shards or train chat data
    from pipeline.splits import split_of
    from pipeline.tokenize.leakage import audit

    originals = [(r["id"], r["text"]) for r in spark.read.parquet(str(tmp_path / "mix")).collect()]
    val_ids = {i for i, _ in originals if split_of(i, index["seed"], 0.3) == "val"}
    assert val_ids and len(val_ids) < len({i for i, _ in originals})
    synth_records = [json.loads(x) for k in ("pretrain", "sft", "rl")
                     for x in (tmp_path / "synth" / f"{k}.jsonl").read_text().splitlines()]
    assert any(set(r["source_ids"]) & val_ids for r in synth_records)  # val documents were synthesized from
    for r in synth_records:  # never one record from both splits
        assert set(r["source_ids"]) <= val_ids or not set(r["source_ids"]) & val_ids, r["id"]
    for r in rl + sft_lines:
        assert (r["split"] == "val") == (set(r["source_ids"]) <= val_ids), r["id"]
    report = audit(out, originals)
    assert report.val_docs == len(val_ids) and report.val_ngrams_checked > 100
    assert report.clean, (report.leaked_ngrams, report.leaked_docs, report.val_sources_in_train_records)
