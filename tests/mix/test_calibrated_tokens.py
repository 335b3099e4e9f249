"""Mix counts tokens with per-language ratios measured on a sample (issue 21), not UTF-8 bytes / 3.4."""

import random

import pytest

from pipeline.dataset import read_stats
from tests.mix.docs_fixture import write_documents

EN = ["the", "river", "flows", "past", "old", "mills", "and", "quiet", "farms", "where", "people", "grow", "wheat", "barley", "and", "apples"]
ZH = list("河流经过古老的磨坊和安静的农场人们在那里种植小麦大麦和苹果天气很好我们一起去学校读书写字")


def _docs(n: int) -> list[dict]:
    rng = random.Random(5)
    rows = []
    for i in range(n):
        rows.append({"id": f"en-{i}", "lang": "en", "domain": "web",
                     "text": " ".join(rng.choice(EN) for _ in range(rng.randint(150, 300)))})
        rows.append({"id": f"zh-{i}", "lang": "zh", "domain": "web",
                     "text": "".join(rng.choice(ZH) for _ in range(rng.randint(200, 400)))})
    return rows


@pytest.mark.slow
def test_mix_tokens_follow_the_tokenizer_per_language(spark, tmp_path, run_stage_in):
    from pipeline.tokenize.bpe import train_bpe

    rows = _docs(24)
    tok = train_bpe([r["text"] for r in rows[:24]], 600)
    tok.save(str(tmp_path / "tokenizer.json"))
    src = write_documents(spark, tmp_path / "in", rows)
    run_stage_in("mix", [src], tmp_path / "given", [f"mix.tokenizer_path={tmp_path / 'tokenizer.json'}"])
    truth = {r["id"]: len(tok.encode(r["text"], add_special_tokens=False).ids) for r in rows}
    got = {r["id"]: r["mix_tokens"] for r in spark.read.parquet(str(tmp_path / "given"))
           .filter("mix_copy = 0").collect()}
    for lang in ("en", "zh"):
        est = sum(v for k, v in got.items() if k.startswith(lang))
        true = sum(v for k, v in truth.items() if k.startswith(lang))
        assert abs(est - true) / true < 0.1, (lang, est, true)
    assert read_stats(str(tmp_path / "given"))["bytes_per_token"]["tokenizer"].startswith("given")

    # the default: a BPE trained on half of the sample, measured on the other half (no stage run needed)
    from pipeline.mix.calibrate import calibrate

    cal = calibrate(spark.read.parquet(str(src)), seed=1, vocab_size=600)
    assert cal.tokenizer.startswith("trained") and set(cal.by_lang) == {"en", "zh"}
    assert cal.by_lang["zh"] < cal.by_lang["en"]  # 3-byte characters, fewer per token
