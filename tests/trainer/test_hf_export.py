"""trainer/model/export.py: the folder loads in transformers with no custom code and its logits match ours."""

import json

import pytest
import torch

pytest.importorskip("transformers")
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from trainer.model.export import HF_NAMES, write_hf_folder  # noqa: E402
from trainer.model.transformer import Transformer, model_config  # noqa: E402

VARIANTS = {
    "tied-gqa-plain": {},
    "untied-mha-linear": {"tie_embeddings": False, "n_kv_heads": 4, "rope_scaling": {"rope_type": "linear", "factor": 2.0}},
    "ntk-past-context": {"rope_scaling": {"rope_type": "dynamic", "factor": 4.0, "original_max_position_embeddings": 32}},
    "yarn-mqa": {"n_kv_heads": 1, "rope_theta": 500000.0,
                 "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}},
}


def max_logit_diff(hf_dir, ours: Transformer, tokens: torch.Tensor) -> float:
    hf = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        return (hf(tokens).logits - ours.eval()(tokens)).abs().max().item()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_logits_match_transformers(name, token_dir, tmp_path):
    vocab = json.loads((token_dir / "index.json").read_text())["vocab_size"]
    cfg = model_config("tiny", {"vocab_size": vocab, **VARIANTS[name]})
    torch.manual_seed(0)
    ours = Transformer(cfg)
    with torch.no_grad():  # norms away from 1, so a swapped norm would show
        for n, p in ours.named_parameters():
            if n.endswith("norm.weight"):
                p.add_(torch.rand_like(p))
    out = write_hf_folder(ours.state_dict(), cfg, tmp_path / "hf", token_dir / "tokenizer.json")
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and "auto_map" not in config
    tokens = torch.randint(0, vocab, (2, 60))  # 60 > 32: NTK and YaRN past the original context
    assert max_logit_diff(out, ours, tokens) <= 1e-4


def test_tokenizer_round_trips_with_eos(token_dir, tmp_path):
    cfg = model_config("tiny", {"vocab_size": json.loads((token_dir / "index.json").read_text())["vocab_size"]})
    out = write_hf_folder(Transformer(cfg).state_dict(), cfg, tmp_path / "hf", token_dir / "tokenizer.json")
    tok = AutoTokenizer.from_pretrained(out)
    text = "The cat sees the red ball in the morning."
    assert tok.decode(tok(text).input_ids) == text
    assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id == 0
    assert json.loads((out / "generation_config.json").read_text())["eos_token_id"] == 0


def test_every_parameter_has_a_hf_name():
    cfg = model_config("tiny", {"vocab_size": 50, "tie_embeddings": False})
    patterns = {k.replace("{i}", "0") for k in HF_NAMES} | {k.replace("{i}", "1") for k in HF_NAMES}
    assert set(Transformer(cfg).state_dict()) <= patterns
