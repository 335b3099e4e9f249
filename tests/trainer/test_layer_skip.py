"""trainer/infer/layer_skip.py: the self-draft is the target's first k layers + its norm and head, with
the target's own weights; speculative decoding with it keeps greedy target decoding exact."""

import pytest
import torch

from tests.trainer.test_generate import PROMPTS
from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.infer.generate import generate
from trainer.infer.layer_skip import fit_exit_adapter, layer_skip_draft, with_exit_adapter
from trainer.infer.speculative import speculative_generate
from trainer.model.transformer import Transformer

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


def test_draft_equals_a_model_of_the_first_k_layers(token_dir):
    target = trained_model(token_dir, n_layers=3)
    draft = layer_skip_draft(target, 2)
    # the reference: a fresh 2-layer model loaded with the target's tensors minus layer 2
    ref = Transformer(draft.cfg)
    ref.load_state_dict({k: v for k, v in target.state_dict().items() if not k.startswith("layers.2.")})
    x = torch.tensor([PROMPTS[0]])
    with torch.no_grad():
        assert torch.equal(draft(x), ref.eval()(x))
        assert not torch.equal(draft(x), target(x))  # the skipped layer mattered
    assert draft.cfg.n_layers == 2 and target.cfg.n_layers == 3
    assert draft.layers[1].attention.wq.weight is target.layers[1].attention.wq.weight  # shared, not copied
    assert draft.output.weight is target.output.weight


@pytest.mark.parametrize("k", [0, 3])
def test_layer_count_out_of_range_is_refused(token_dir, k):
    with pytest.raises(ValueError, match="keeps 1..2 of the target's 3 layers"):
        layer_skip_draft(trained_model(token_dir, n_layers=3), k)


def test_speculative_with_a_self_draft_is_greedy_target_decoding(token_dir):
    target = trained_model(token_dir, n_layers=3)
    spec = speculative_generate(target, layer_skip_draft(target, 1), PROMPTS, max_new_tokens=12, k=3)
    assert spec.tokens == generate(target, PROMPTS, max_new_tokens=12).tokens
    assert spec.proposed > 0


def test_exit_adapter_maps_the_early_stream_towards_the_final_one(token_dir):
    from trainer.train.data import PackedWindows, TokenShards

    target = trained_model(token_dir, n_layers=3)
    x, _ = PackedWindows(TokenShards(token_dir).split("train"), 32).batch(list(range(16)))
    adapter = fit_exit_adapter(target, 1, x)
    taps = {}
    target.layers[0].register_forward_hook(lambda _m, _i, out: taps.__setitem__("early", out))
    target.layers[2].register_forward_hook(lambda _m, _i, out: taps.__setitem__("final", out))
    with torch.no_grad():
        target(x)
        raw = (taps["early"] - taps["final"]).pow(2).mean()
        fitted = (adapter(taps["early"]) - taps["final"]).pow(2).mean()
        assert fitted < 0.5 * raw  # least squares beats the identity on the tokens it was fitted to
        draft = with_exit_adapter(layer_skip_draft(target, 1), adapter)
        assert torch.allclose(draft(x[:2]), target.output(target.norm(adapter(taps["early"][:2]))), atol=1e-5)
    assert isinstance(target.norm, type(draft.norm[1]))  # the target keeps its own norm
