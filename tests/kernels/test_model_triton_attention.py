"""The Llama model of trainer/model/transformer.py trains with attention="triton" (Triton flash attention:
under the interpreter on CPU, compiled on a GPU) with the same losses as its SDPA path."""

import pytest
import torch

from tests.kernels.kernel_checks import DEVICE, INTERPRET

model_mod = pytest.importorskip("trainer.model.transformer")

STEPS = 3
SEQ = 48  # <= the tiny preset's 64; not a multiple of the interpreter's 32-row query block
BATCH = 2


def _train(model: torch.nn.Module, batches: list[torch.Tensor]) -> list[float]:
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for tokens in batches:
        logits = model(tokens[:, :-1])
        loss = model_mod.cross_entropy(logits, tokens[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_tiny_model_trains_with_triton_attention_like_sdpa():
    torch.manual_seed(0)
    base = model_mod.Transformer(model_mod.model_config("tiny", {"vocab_size": 97}))
    # one batch repeated: the loss must fall, so "learning" is checked, not just agreement
    batches = [torch.randint(0, 97, (BATCH, SEQ + 1), device=DEVICE)] * STEPS

    losses = {}
    for impl in ("sdpa", "triton"):
        model = model_mod.Transformer(model_mod.model_config("tiny", {"vocab_size": 97, "attention": impl}))
        model.load_state_dict(base.state_dict())
        model.to(DEVICE)
        losses[impl] = _train(model, batches)

    assert losses["sdpa"][-1] < losses["sdpa"][0], "the reference run did not learn"
    tol = 1e-4 if INTERPRET else 5e-3  # compiled fp32 tl.dot runs in tf32
    torch.testing.assert_close(torch.tensor(losses["triton"]), torch.tensor(losses["sdpa"]), rtol=tol, atol=tol)
