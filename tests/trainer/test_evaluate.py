"""trainer/eval/evaluate.py: the report contract on a checkpoint in the trainer's layout, exact match on
held-out SFT/RL items, speculative decoding against an HF-exported draft."""

import json
import shutil

import pytest
from tokenizers import Tokenizer

from tests.trainer.tiny_lm import one_thread, trained_model, write_run_dir
from trainer.cli import main
from trainer.eval.metrics import held_out_items
from trainer.infer.generate import generate
from trainer.model.export import write_hf_folder

pytestmark = pytest.mark.usefixtures(one_thread.__name__)

NEW_TOKENS = 12


def answer_text(text: str) -> str:
    """What the checkers read as the final answer of a completion without an "Answer:" mark."""
    return text.strip().rstrip(".").strip().strip("`\"'").strip()


@pytest.fixture(scope="module")
def eval_inputs(token_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    tokens = shutil.copytree(token_dir, root / "tokens")
    index = json.loads((tokens / "index.json").read_text())
    (tokens / "index.json").write_text(json.dumps({**index, "seed": 0, "val_fraction": 0.1}))
    model = trained_model(token_dir)
    tok = Tokenizer.from_file(str(tokens / "tokenizer.json"))
    prompts = ["The cat sees", "A dog likes the"]
    greedy = [tok.decode(t) for t in generate(model, [tok.encode(p).ids for p in prompts], NEW_TOKENS).tokens]
    sft = [{"id": "s1", "prompt": prompts[0], "completion": greedy[0] + "<|im_end|>\n", "split": "val"},
           {"id": "s2", "prompt": prompts[1], "completion": "something else<|im_end|>\n", "split": "val"},
           {"id": "s3", "prompt": prompts[0], "completion": greedy[0] + "<|im_end|>\n", "split": "train"}]
    rl = [{"id": "r1", "prompt_text": prompts[1], "answer": answer_text(greedy[1]), "checker": "exact_match",
           "split": "val"},
          {"id": "r2", "prompt_text": prompts[0], "answer": "42", "checker": "exact_match", "split": "val"},
          {"id": "r3", "prompt_text": prompts[1], "answer": answer_text(greedy[1]), "checker": "exact_match",
           "split": "train"}]
    (tokens / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sft))
    (tokens / "rl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rl))

    run = write_run_dir(model, root / "pretrain", tokens / "tokenizer.json")

    draft = trained_model(token_dir, dim=32, n_layers=1, steps=30)
    hf_draft = write_hf_folder(draft.state_dict(), draft.cfg, root / "draft_hf", None)
    return tokens, run, hf_draft


def test_held_out_items_are_the_val_split(eval_inputs):
    tokens, _, _ = eval_inputs
    assert sorted(it.id for it in held_out_items(tokens)) == ["r1", "r2", "s1", "s2"]


def test_report_contract_for_every_variant(eval_inputs, tmp_path):
    tokens, run, draft = eval_inputs
    out = tmp_path / "eval"
    argv = ["--model", str(run), "--tokens", str(tokens), "--out", str(out), "--max-windows", "8",
            "--max-new-tokens", str(NEW_TOKENS), "--decode-tokens", "16", "--group-size", "32",
            "--calib-samples", "8", "--draft", str(draft)]
    assert main(["evaluate", *argv]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["metric"] == "token_perplexity"
    assert report["model"] == str(run) and report["tokens_dir"] == str(tokens)
    rows = {r["variant"]: r for r in report["variants"]}
    assert list(rows) == ["fp32", "int8", "int4-rtn", "int4-gptq"]
    for r in rows.values():
        assert set(r) >= {"variant", "token_perplexity", "exact_match", "exact_match_items",
                          "decode_tokens_per_s", "peak_memory_bytes", "model_bytes"}
        assert 1.0 < r["token_perplexity"] < 384 and r["decode_tokens_per_s"] > 0
        assert r["exact_match_items"] == 4
    # one SFT and one RL item are the model's own greedy answers, the other two are wrong
    assert rows["fp32"]["exact_match"] == 0.5
    assert abs(rows["int8"]["token_perplexity"] / rows["fp32"]["token_perplexity"] - 1) < 0.01
    assert rows["fp32"]["model_bytes"] > rows["int8"]["model_bytes"] > rows["int4-rtn"]["model_bytes"]
    assert rows["int4-gptq"]["model_bytes"] == rows["int4-rtn"]["model_bytes"]
    spec = report["speculative"]
    assert spec["greedy_outputs_equal"] and 0 <= spec["acceptance_rate"] <= 1
    md = (out / "report.md").read_text()
    assert "token_perplexity" in md and "int4-gptq" in md
    assert (out / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_model_is_a_clear_error(eval_inputs, tmp_path, capsys):
    tokens, _, _ = eval_inputs
    assert main(["evaluate", "--model", str(tmp_path / "nope"), "--tokens", str(tokens), "--out", str(tmp_path / "e")]) == 2
    assert "not a checkpoint" in capsys.readouterr().err
