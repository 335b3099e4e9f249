"""Data in a base model's vocabulary: with `tokenize.tokenizer_path`, the SFT/RL records are rendered with
the chat template shipped beside that tokenizer (here one that, like SmolLM2's, adds a default system
prompt), and the loss mask still covers exactly the assistant answer and its end marker."""

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.tokenize.bpe import IM_END, train_bpe
from pipeline.tokenize.chat import ChatTemplate, encode_with_mask
from pipeline.tokenize.chat_data import gsm8k_rl_records, write_rl, write_sft

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
SMOL_LIKE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
             "{{ '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}{% endif %}"
             "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
TEXTS = ["Hello world, the cat sat on the mat. You are a helpful assistant.", "numbers 12345 and 3.14159"] * 30
MSGS = [{"role": "user", "content": "Add 2 and 3."}, {"role": "assistant", "content": "2 + 3 = 5.\nAnswer: 5"}]


def base_folder(tmp_path: Path) -> Path:
    base = tmp_path / "base"
    base.mkdir()
    train_bpe(TEXTS, vocab_size=400).save(str(base / "tokenizer.json"))
    (base / "chat_template.jinja").write_text(SMOL_LIKE)
    return base


def test_records_use_the_base_template_and_mask_only_the_answer(tmp_path):
    from tokenizers import Tokenizer

    base = base_folder(tmp_path)
    tok, template = Tokenizer.from_file(str(base / "tokenizer.json")), ChatTemplate.beside(base / "tokenizer.json")
    assert template.render(MSGS).startswith(f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user")
    ids, mask = encode_with_mask(tok, MSGS, template)
    assert tok.decode(ids, skip_special_tokens=False) == template.render(MSGS)
    assert tok.decode([i for i, m in zip(ids, mask, strict=True) if m], skip_special_tokens=False) == \
        f"2 + 3 = 5.\nAnswer: 5{IM_END}"
    # without a template beside it, ChatML as before (no system prompt added)
    (base / "chat_template.jinja").unlink()
    assert ChatTemplate.beside(base / "tokenizer.json").render(MSGS).startswith("<|im_start|>user\n")

    out = tmp_path / "tokens"
    out.mkdir()
    record = {"id": "r1", "source_ids": ["d1"], "generator": "short_sft", "messages": MSGS}
    write_sft([record], tok, out, "uint16", 0, 0, 0.0, 1000, template)
    tokens = np.fromfile(out / "sft/train-00000.bin", dtype="<u2")
    loss_mask = np.fromfile(out / "sft/train-00000.mask.bin", dtype=np.uint8)
    assert tok.decode(tokens[loss_mask == 1].tolist(), skip_special_tokens=False) == f"2 + 3 = 5.\nAnswer: 5{IM_END}"
    line = json.loads((out / "sft.jsonl").read_text())
    assert line["prompt"].endswith("<|im_start|>assistant\n") and DEFAULT_SYSTEM in line["prompt"]
    assert line["completion"] == f"2 + 3 = 5.\nAnswer: 5{IM_END}\n"


def test_gsm8k_train_items_join_the_rl_prompts_as_train_records(tmp_path):
    from tokenizers import Tokenizer

    from answer_checkers import check

    base = base_folder(tmp_path)
    tok, template = Tokenizer.from_file(str(base / "tokenizer.json")), ChatTemplate.beside(base / "tokenizer.json")
    gsm = gsm8k_rl_records(REPO / "pipeline/resources/eval/gsm8k_train.jsonl.gz", limit=3)
    assert [r["answer"] for r in gsm] == ["72", "10", "5"]  # GSM8K train's first three final answers
    synth = {"id": "s1", "source_ids": ["d1"], "generator": "short_rl", "messages": MSGS[:1], "answer": "5",
             "checker": "arithmetic", "tolerance": None}
    stats = write_rl([synth, *gsm], tok, tmp_path, seed=0, val_fraction=0.999, template=template)
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "rl.jsonl").read_text().splitlines())}
    assert {rows[r["id"]]["split"] for r in gsm} == {"train"}  # GSM8K's held-out items are its test split
    assert rows["s1"]["split"] == "val" and stats["rl_prompts"] == 4
    assert all(r["prompt_text"].startswith(f"<|im_start|>system\n{DEFAULT_SYSTEM}") for r in rows.values())
    assert check("arithmetic", "48 + 24 = 72.\nAnswer: 72", rows["gsm8k-train-00000"]["answer"], None)


@pytest.mark.slow
def test_tokenize_stage_with_a_base_tokenizer(spark, tmp_path, run_stage_in):
    """The stage keeps the base's ids (no new tokens, its vocabulary in index.json) and ships its template."""
    from tokenizers import Tokenizer

    from pipeline.tokenize.shards import documents_of
    from tests.mix.docs_fixture import write_documents
    from tests.synth.corpus import make_docs

    base = base_folder(tmp_path)
    (base / "chat_template.jinja").write_text(SMOL_LIKE)
    docs = make_docs(3)
    src = write_documents(spark, tmp_path / "docs", docs)
    run_stage_in("tokenize", [src], tmp_path / "tokens",
                 [f"tokenize.tokenizer_path={base / 'tokenizer.json'}", "run.val_fraction=0.2"])
    out = tmp_path / "tokens"
    index = json.loads((out / "index.json").read_text())
    base_tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    assert index["vocab_size"] == base_tok.get_vocab_size() and index["eos_id"] == base_tok.token_to_id("<|endoftext|>")
    assert Tokenizer.from_file(str(out / "tokenizer.json")).get_vocab() == base_tok.get_vocab()
    assert json.loads((out / "tokenizer_config.json").read_text())["chat_template"] == SMOL_LIKE
    decoded = sorted(base_tok.decode(ids.tolist(), skip_special_tokens=False)
                     for s in index["shards"] for ids in documents_of(out, s, index["dtype"]))
    assert decoded == sorted(d["text"] for d in docs)
