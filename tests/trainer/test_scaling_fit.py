"""Scaling-law fits recover known parameters; the fit-scaling command refuses bad runs files with the
reason and status 2; the sweep's sizing matches the model it trains; ablation statistics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from trainer.cli import main
from trainer.experiments import ablation, sweep
from trainer.experiments.scaling_fit import ScalingFit, fit_isoflops, fit_loss_surface

TRUE = ScalingFit(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28, objective=0.0)  # Hoffmann et al. eq. 10


def synthetic_runs(noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An IsoFLOP grid (8 budgets x 12 sizes, D = C/6N) of Chinchilla's law with multiplicative noise."""
    rng = np.random.default_rng(seed)
    params, tokens = [], []
    for c in np.logspace(18, 23, 8):
        for n in np.logspace(7, 10.5, 12):
            params.append(n)
            tokens.append(c / (6 * n))
    params, tokens = np.array(params), np.array(tokens)
    return params, tokens, TRUE.loss(params, tokens) * np.exp(rng.normal(0, noise, params.shape))


def test_fit_recovers_known_parameters_from_noisy_runs():
    fit = fit_loss_surface(*synthetic_runs(noise=0.002))
    for name in ("E", "A", "B", "alpha", "beta"):
        assert getattr(fit, name) == pytest.approx(getattr(TRUE, name), rel=0.05), name
    n_opt, d_opt = fit.compute_optimal(1e24)
    true_n, _ = TRUE.compute_optimal(1e24)
    assert 6 * n_opt * d_opt == pytest.approx(1e24)
    assert n_opt == pytest.approx(true_n, rel=0.25)


def test_isoflop_minima_follow_the_true_optimum():
    params, tokens, loss = synthetic_runs(noise=0.0)
    iso = fit_isoflops(params, tokens, loss)
    assert len(iso.profiles) == 8
    # Chinchilla's own law gives N_opt ~ C^(beta/(alpha+beta)) = C^0.45
    assert iso.exponent == pytest.approx(0.28 / (0.34 + 0.28), abs=0.05)


def write_runs(path, header: str, rows: list[str]) -> str:
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def test_fit_scaling_prints_json_and_draws_both_figures(tmp_path, capsys):
    params, tokens, loss = synthetic_runs(noise=0.002, seed=1)
    runs = write_runs(tmp_path / "runs.csv", "params,tokens,loss",
                      [f"{n},{d},{lo}" for n, d, lo in zip(params, tokens, loss, strict=True)])
    assert main(["fit-scaling", "--runs", runs, "--budget", "1e24", "--out", str(tmp_path / "fit")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["alpha"] == pytest.approx(0.34, rel=0.05) and report["budget"] == 1e24
    assert report["N_opt"] * report["D_opt"] * 6 == pytest.approx(1e24)
    assert report["isoflop"]["N_opt"] > 0
    for name in ("fit.png", "isoflops.png"):
        assert (tmp_path / "fit" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "fit" / "fit.json").read_text())["E"] == report["E"]


@pytest.mark.parametrize("header,rows,reason", [
    ("params,loss", ["1e6,3.0"] * 8, "missing column(s) tokens"),
    ("params,tokens,loss", ["1e6,2e7,3.0"] * 7 + ["-5,2e7,3.0"], "params must be positive"),
    ("params,tokens,loss", ["1e6,2e7,3.0"] * 7 + ["1e6,2e7,0"], "loss must be positive"),
    ("params,tokens,loss", ["1e6,2e7,3.0"] * 7 + ["1e6,many,3.0"], "is not a number"),
    ("params,tokens,loss", ["1e6,2e7,3.0"] * 4, "needs at least 6"),
])
def test_bad_runs_file_exits_2_with_the_reason(tmp_path, capsys, header, rows, reason):
    runs = write_runs(tmp_path / "runs.csv", header, rows)
    assert main(["fit-scaling", "--runs", runs]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def test_sweep_sizes_count_the_trained_models_non_embedding_parameters():
    from trainer.model.transformer import Transformer, model_config

    for shape in sweep.SHAPES_CPU[:4]:
        model = Transformer(model_config("tiny", {"dim": shape.dim, "n_layers": shape.n_layers, "vocab_size": 99,
                                                  "n_heads": shape.n_heads, "n_kv_heads": shape.n_heads}))
        assert shape.params == model.num_params() - model.tok_embeddings.weight.numel()
    ladder = [s.params for s in sweep.SHAPES_CPU]
    assert ladder == sorted(ladder) and 0.05e6 < ladder[0] < 0.2e6 and 10e6 < ladder[-1] < 25e6
    runs = sweep.plan_sweep(list(sweep.SHAPES_CPU[:3]), [1e11, 1e12], tokens_per_step=1024, min_steps=10)
    assert {r.budget for r in runs} == {1e11, 1e12}
    for r in runs:
        assert r.tokens % 1024 == 0 and r.steps >= 10
        assert r.flops == pytest.approx(r.budget, rel=0.1) and r.flops == 6 * r.params * r.tokens
    shape = sweep.nearest_shape(2.5e6)
    assert abs(math.log(shape.params / 2.5e6)) < 0.15


def test_ablation_calls_a_difference_real_only_beyond_its_noise():
    rows = [("dedup", 1.50), ("dedup", 1.51), ("dedup", 1.49), ("nodedup", 1.60), ("nodedup", 1.61),
            ("nodedup", 1.59), ("noisy", 1.40), ("noisy", 1.70), ("noisy", 1.55)]
    stats = ablation.summarize(rows)
    assert [s.variant for s in stats] == ["dedup", "noisy", "nodedup"]
    assert stats[0].mean == pytest.approx(1.50) and stats[0].std == pytest.approx(0.01)
    verdict = {(d.a, d.b): d.exceeds_noise for d in ablation.differences(stats)}
    assert verdict[("dedup", "nodedup")] is True
    assert verdict[("dedup", "noisy")] is False and verdict[("noisy", "nodedup")] is False
    # 3 seeds each: 2.5 standard errors apart is within noise (Welch df ~4, t ~2.8), 5 is not
    close = ablation.summarize([("a", 1.00), ("a", 1.02), ("a", 1.04), ("b", 1.0408), ("b", 1.0608), ("b", 1.0808)])
    (diff,) = ablation.differences(close)
    assert 2.4 < abs(diff.delta) / diff.stderr < 2.6 and diff.exceeds_noise is False
    far = ablation.summarize([("a", 1.00), ("a", 1.02), ("a", 1.04), ("b", 1.0816), ("b", 1.1016), ("b", 1.1216)])
    assert ablation.differences(far)[0].exceeds_noise is True
