"""trainer/eval/evaluate.py with real-text perplexity, GSM8K and a layer-skip draft (issue 19's columns),
and a draft whose tokenizer differs refused with one clear line."""

import gzip
import json

import pytest
from tokenizers import AddedToken, Tokenizer

from tests.trainer.test_evaluate import eval_inputs  # noqa: F401  (the shared fixture)
from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.cli import main
from trainer.model.export import write_hf_folder

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


def test_heldout_text_gsm8k_and_self_draft_columns(eval_inputs, tmp_path):  # noqa: F811
    tokens, run, _ = eval_inputs
    text = tmp_path / "heldout.jsonl"
    text.write_text(json.dumps({"text": "The cat sees a dog. A dog likes the cat."}) + "\n")
    gsm = tmp_path / "gsm8k.jsonl.gz"
    with gzip.open(gsm, "wt") as f:
        for q in ("Tom has 3 cats. How many?", "Ann has 2 dogs. How many?", "unused"):
            f.write(json.dumps({"question": q, "answer": "so\n#### 3"}) + "\n")
    out = tmp_path / "eval"
    argv = ["--model", str(run), "--tokens", str(tokens), "--out", str(out), "--variants", "fp32,int8",
            "--max-windows", "4", "--decode-tokens", "8", "--max-new-tokens", "4", "--heldout-text", str(text),
            "--gsm8k", str(gsm), "--gsm8k-items", "2", "--gsm8k-max-new-tokens", "4", "--draft", "layers:1"]
    assert main(["evaluate", *argv]) == 0
    report = json.loads((out / "report.json").read_text())
    for r in report["variants"]:
        assert r["heldout_text_perplexity"] > 1.0 and r["heldout_text_tokens"] > 5
        assert r["gsm8k_items"] == 2 and r["gsm8k_exact_match"] in (0.0, 0.5, 1.0)
    assert report["speculative"]["greedy_outputs_equal"]
    md = (out / "report.md").read_text()
    assert "held-out text perplexity" in md and "GSM8K exact match (items)" in md and "(2) |" in md


def test_a_draft_with_another_tokenizer_is_refused(eval_inputs, token_dir, tmp_path, capsys):  # noqa: F811
    tokens, run, _ = eval_inputs
    tok = Tokenizer.from_file(str(tokens / "tokenizer.json"))
    tok.add_tokens([AddedToken("<|other|>", special=True)])
    tok.save(str(tmp_path / "tokenizer.json"))
    draft = trained_model(token_dir, dim=32, n_layers=1, steps=30)
    hf = write_hf_folder(draft.state_dict(), draft.cfg, tmp_path / "draft_hf", tmp_path / "tokenizer.json")
    argv = ["--model", str(run), "--tokens", str(tokens), "--out", str(tmp_path / "e"), "--variants", "fp32",
            "--max-windows", "2", "--max-new-tokens", "2", "--decode-tokens", "4", "--draft", str(hf)]
    assert main(["evaluate", *argv]) == 2
    assert "draft tokenizer differs from the target's" in capsys.readouterr().err
