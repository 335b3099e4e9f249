import random

import pytest

from pipeline.dataset import read_stats
from tests.mix.docs_fixture import write_documents

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"]


def _doc(i: int, domain: str, cluster: int, rng: random.Random) -> dict:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 220)))
    return {"id": f"{domain}-{i}", "text": text, "domain": domain, "semantic_cluster": cluster,
            "quality_score": rng.random()}


@pytest.fixture
def skewed(spark, tmp_path):
    rng = random.Random(0)
    rows = [_doc(i, "web", 0 if i < 270 else 1, rng) for i in range(300)]
    rows += [_doc(i, "code", 0, rng) for i in range(30)] + [_doc(i, "math", 0, rng) for i in range(10)]
    return write_documents(spark, tmp_path / "in", rows)


def _shares(spark, out) -> dict:
    rows = spark.read.parquet(str(out)).groupBy("domain").sum("mix_tokens").collect()
    total = sum(r[1] for r in rows)
    return {r[0]: r[1] / total for r in rows}


@pytest.mark.slow
def test_mix_shares_cap_determinism_and_cluster_balance(spark, skewed, tmp_path, run_stage_in):
    weights = ["mix.weights={web: 0.5, code: 0.3, math: 0.2}"]
    run_stage_in("mix", [skewed], tmp_path / "a", weights)
    run_stage_in("mix", [skewed], tmp_path / "b", weights)
    run_stage_in("mix", [skewed], tmp_path / "flat", [*weights, "mix.diversity=false"])
    stats = read_stats(str(tmp_path / "a"))
    shares = _shares(spark, tmp_path / "a")
    for domain, target in {"web": 0.5, "code": 0.3, "math": 0.2}.items():
        assert abs(shares[domain] - target) <= 0.02, (domain, shares)
        assert stats["groups"][domain]["effective_epochs"] <= 4.0
    assert stats["cap_bound_groups"] == ["math"]
    assert stats["groups"]["web"]["effective_epochs"] < 1 < stats["groups"]["code"]["effective_epochs"]
    assert stats["diversity_balancing"].startswith("on")
    a = sorted(tuple(r) for r in spark.read.parquet(str(tmp_path / "a")).select("id", "mix_copy").collect())
    b = sorted(tuple(r) for r in spark.read.parquet(str(tmp_path / "b")).select("id", "mix_copy").collect())
    assert a == b

    def small_share(out):  # web is down-sampled to 1/3: does the 10% cluster keep more than 10%?
        web = spark.read.parquet(str(out)).filter("domain = 'web'")
        return web.filter("semantic_cluster = 1").count() / web.count()

    flat, balanced = small_share(tmp_path / "flat"), small_share(tmp_path / "a")
    assert balanced > flat + 0.1, (flat, balanced)


@pytest.mark.slow
def test_mix_without_optional_columns_says_so(spark, tmp_path, run_stage_in):
    src = write_documents(spark, tmp_path / "plain", [{"id": str(i), "text": "word " * 50} for i in range(5)])
    summary = run_stage_in("mix", [src], tmp_path / "out")
    stats = read_stats(str(tmp_path / "out"))
    assert summary.rows_out == 5
    assert stats["missing_group_columns"] == ["domain"]
    assert stats["diversity_balancing"] == "off: no semantic_cluster column"
    assert list(stats["groups"]) == ["unknown"]
