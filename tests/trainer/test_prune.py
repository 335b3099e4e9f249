"""trainer/quant/prune.py: masks hit the asked sparsity and pattern, Wanda weighs by input norms,
the pruned folder loads, evaluates and records its sparsity, bad requests exit 2."""

import json

import pytest
import torch

from tests.trainer.tiny_lm import one_thread, trained_model, write_run_dir
from trainer.cli import main
from trainer.quant.prune import PruneConfig, PruneError, measured_sparsity, prune_mask, prune_model

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.7])
def test_unstructured_masks_drop_the_smallest_scores(sparsity):
    torch.manual_seed(0)
    score = torch.rand(16, 40)
    for per_row in (True, False):
        keep = prune_mask(score, sparsity, "unstructured", per_row)
        assert abs((~keep).float().mean().item() - sparsity) < 0.03
        assert score[~keep].max() <= score[keep].min() or per_row
    row_keep = prune_mask(score, sparsity, "unstructured", per_row=True)
    assert (row_keep.sum(1) == row_keep.sum(1)[0]).all()  # Wanda compares within each output row


def test_two_four_keeps_the_best_two_of_every_four():
    score = torch.tensor([[4.0, 1.0, 3.0, 2.0, 0.1, 0.4, 0.3, 0.2]])
    assert prune_mask(score, 0.5, "2:4", per_row=True).tolist() == [[True, False, True, False] + [False, True, True, False]]


def test_wanda_prefers_weights_on_loud_inputs(token_dir):
    """Same |W| everywhere except the input scale: Wanda keeps the columns fed by large activations."""
    model = trained_model(token_dir)
    calib = torch.randint(0, model.cfg.vocab_size, (4, 32), generator=torch.Generator().manual_seed(0))
    wanda = prune_model(trained_model(token_dir), PruneConfig("wanda", 0.5), calib)
    magnitude = prune_model(trained_model(token_dir), PruneConfig("magnitude", 0.5))
    for pruned in (wanda, magnitude):
        assert abs(measured_sparsity(pruned) - 0.5) < 0.01
    w_wanda = wanda.layers[0].attention.wq.weight
    w_mag = magnitude.layers[0].attention.wq.weight
    assert not torch.equal(w_wanda == 0, w_mag == 0)
    # the kept weights of a layer are untouched
    dense = model.layers[0].attention.wq.weight
    assert torch.equal(w_wanda[w_wanda != 0], dense[w_wanda != 0])
    with torch.no_grad():  # on its own calibration text Wanda's output moves less than magnitude's
        ref = model(calib).log_softmax(-1)
        err = {name: (m(calib).log_softmax(-1) - ref).abs().mean().item()
               for name, m in (("wanda", wanda), ("magnitude", magnitude))}
    assert err["wanda"] < err["magnitude"], err


def test_cli_prunes_a_run_dir_into_a_folder_that_evaluates(token_dir, tmp_path):
    from trainer.infer.load_model import load_model

    run = write_run_dir(trained_model(token_dir), tmp_path / "run", token_dir / "tokenizer.json")
    out = tmp_path / "p"
    assert main(["prune", "--model", str(run), "--out", str(out), "--method", "wanda", "--pattern", "2:4",
                 "--tokens", str(token_dir), "--calib-samples", "4", "--calib-seq-len", "32"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["pruning"]["pattern"] == "2:4" and abs(config["pruning"]["measured_sparsity"] - 0.5) < 1e-6
    loaded = load_model(out)
    assert loaded.kind == "hf" and abs(measured_sparsity(loaded.model) - 0.5) < 1e-6
    w = loaded.model.layers[1].feed_forward.w2.weight
    assert ((w.reshape(w.shape[0], -1, 4) != 0).sum(-1) <= 2).all()
    assert main(["evaluate", "--model", str(out), "--tokens", str(token_dir), "--out", str(tmp_path / "e"),
                 "--variants", "fp32", "--max-windows", "4", "--decode-tokens", "8"]) == 0


@pytest.mark.parametrize("args", [["--sparsity", "0"], ["--sparsity", "1.0"], ["--sparsity", "-0.2"],
                                  ["--method", "wanda"]])  # wanda without --tokens
def test_bad_requests_exit_2(token_dir, tmp_path, args):
    run = write_run_dir(trained_model(token_dir), tmp_path / "run", token_dir / "tokenizer.json")
    assert main(["prune", "--model", str(run), "--out", str(tmp_path / "p"), "--method", "magnitude", *args]) == 2


def test_two_four_on_a_width_not_divisible_by_four_is_refused():
    from trainer.model.transformer import ModelConfig, Transformer

    model = Transformer(ModelConfig(vocab_size=32, dim=36, n_heads=4, n_kv_heads=2, ffn_dim=30))
    with pytest.raises(PruneError, match="divisible by 4"):
        prune_model(model, PruneConfig("magnitude", pattern="2:4"))


def test_dag_macros_render_the_prune_and_kv_commands_the_clis_accept():
    import shlex

    from trainer.cli import parser_for
    from trainer.compress_orchestration import (
        dag_evaluate_kv_command,
        dag_evaluate_pruned_command,
        dag_prune_command,
    )

    params = {"tokens_dir": "/d/r1/tokens", "data_root": "/d", "data_run_id": "r1", "out_dir": "/o",
              "eval_prune": "wanda:2:4", "eval_kv_policy": "snapkv:256", "base_model": ""}
    prune = shlex.split(dag_prune_command(params, None, "m", "a"))
    args = parser_for("prune").parse_args(prune[4:])
    assert (args.model, args.out, args.method, args.pattern, args.tokens) == ("/o/hf", "/o/pruned", "wanda", "2:4",
                                                                             "/d/r1/tokens")
    evaluate = shlex.split(dag_evaluate_pruned_command(params, None, "m", "a"))
    assert evaluate[evaluate.index("--model") + 1] == "/o/pruned"
    kv = parser_for("kv-eval").parse_args(shlex.split(dag_evaluate_kv_command(params, None, "m", "a"))[4:])
    assert (kv.policy, kv.tokens, kv.gsm8k) == ("snapkv:256", "/d/r1/tokens", None)
    base = {**params, "base_model": "smollm2-135m-instruct", "eval_prune": "magnitude:0.3"}
    assert "--sparsity 0.3" in dag_prune_command(base, None, "m", "a")
    assert "--gsm8k " in dag_evaluate_kv_command(base, None, "m", "a")
    with pytest.raises(ValueError, match="eval_prune"):
        dag_prune_command({**params, "eval_prune": "wanda"}, None, "m", "a")
