import pytest

from pipeline.mix.plan import plan_mix, target_shares
from pipeline.mix.weights import cluster_doc_weights, cluster_shares


def test_unlisted_groups_split_the_rest_by_size():
    shares = target_shares({"a": 600, "b": 300, "c": 100}, {"a": 0.5})
    assert shares["a"] == pytest.approx(0.5)
    assert shares["b"] == pytest.approx(0.375) and shares["c"] == pytest.approx(0.125)


def test_empty_weights_keep_natural_shares_and_overfull_weights_normalise():
    assert target_shares({"a": 3, "b": 1}, {}) == pytest.approx({"a": 0.75, "b": 0.25})
    assert target_shares({"a": 3, "b": 1}, {"a": 1, "b": 3}) == pytest.approx({"a": 0.25, "b": 0.75})


def test_shrink_keeps_shares_and_reports_the_binding_cap():
    plans, info = plan_mix({"big": 1000, "small": 10}, {"big": 0.5, "small": 0.5}, max_epochs=4)
    by = {p.group: p for p in plans}
    assert info["cap_bound_groups"] == ["small"]
    assert by["small"].epochs == pytest.approx(4.0)
    assert by["big"].target_tokens == pytest.approx(by["small"].target_tokens)
    assert info["planned_tokens"] == 80


def test_renormalize_keeps_total_and_never_exceeds_cap():
    plans, info = plan_mix({"big": 1000, "small": 10, "mid": 200}, {"big": 0.2, "small": 0.4, "mid": 0.4},
                           max_epochs=4, total_tokens=1210, on_cap="renormalize")
    assert all(p.epochs <= 4 + 1e-9 for p in plans)
    assert sum(p.target_tokens for p in plans) == pytest.approx(1210)
    assert "small" in info["cap_bound_groups"]


def test_temperature_flattens_cluster_shares():
    sizes = {0: 900, 1: 100}
    assert cluster_shares(sizes, 1.0)[1] == pytest.approx(0.1)
    assert cluster_shares(sizes, 3.33)[1] > 0.25
    w = cluster_doc_weights(sizes, 3.33)
    assert w[1] > w[0]  # a small cluster's documents are each more likely to be kept


def test_quality_weighting_prefers_high_scores_in_a_weighted_sample():
    import numpy as np
    import pandas as pd

    from pipeline.mix.weights import priority_keys, quality_doc_weights, uniform_from_hash

    rng = np.random.default_rng(0)
    h = pd.Series(rng.integers(-(2**63), 2**63 - 1, size=2000, dtype=np.int64))
    z = pd.Series(np.r_[np.full(1000, -1.0), np.full(1000, 1.0)])
    keys = priority_keys(uniform_from_hash(h), quality_doc_weights(z, 1.0))
    top = keys.sort_values(ascending=False).index[:500]
    assert (z[top] > 0).mean() > 0.8  # exp(2) ≈ 7x weight: high-quality docs dominate the top
    u = uniform_from_hash(h)
    assert u.between(0, 1, inclusive="neither").all()
