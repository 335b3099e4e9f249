"""A tokens directory with the tokenize stage's chat outputs (sft/ shards with loss masks, rl.jsonl),
written by the pipeline's own writers, plus a tiny base model saved as a pretraining run.

Conversations come from a small seeded grammar ("What does the cat like? -> The cat likes the red
ball."), so a tiny model's response loss falls within a few dozen steps.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch

from pipeline.synth.records import rl_record, sft_record
from pipeline.tokenize.bpe import EOS, train_bpe
from pipeline.tokenize.chat_data import write_rl, write_sft
from tests.trainer.token_fixture import OBJECTS, SUBJECTS, make_documents
from trainer.model.checkpoint import save_transformer
from trainer.model.transformer import ModelConfig, Transformer, cross_entropy


def sft_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    likes = {s: rng.choice(OBJECTS) for s in SUBJECTS}  # a fixed fact per subject: learnable
    out = []
    for i in range(n):
        s = rng.choice(SUBJECTS)
        out.append(sft_record("test_sft", [f"d{i}"], "test", f"What does {s} like?", f"{s.capitalize()} likes {likes[s]}.",
                              index=i))
    return out


def rl_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        out.append(rl_record("test_rl", [f"r{i}"], "test", f"What is {a} + {b}?", str(a + b), "arithmetic", None,
                             "arithmetic", index=i))
    return out


def write_chat_tokens(root: str | Path, n_sft: int = 400, n_rl: int = 16, seed: int = 0) -> Path:
    """`<root>/{tokenizer.json, index.json, sft/, sft.jsonl, rl.jsonl}` in the tokenize stage's format."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    sft, rl = sft_records(n_sft, seed), rl_records(n_rl, seed)
    texts = make_documents(200, seed) + [m["content"] for r in sft + rl for m in r["messages"]]
    tok = train_bpe(texts, vocab_size=320)
    tok.save(str(root / "tokenizer.json"))
    write_sft(sft, tok, root, "uint16", tok.token_to_id(EOS), seed, 0.1, 1 << 20)
    write_rl(rl, tok, root)
    index = {"format": "llm-pipeline-tokens/1", "dtype": "uint16", "vocab_size": tok.get_vocab_size(),
             "eos_id": tok.token_to_id(EOS), "tokenizer": "tokenizer.json", "shards": [],
             "sft": "sft/index.json", "sft_jsonl": "sft.jsonl", "rl": "rl.jsonl"}
    (root / "index.json").write_text(json.dumps(index, indent=2))
    return root


def write_base_run(run: str | Path, tokens: Path, seed: int = 0, pretrain_steps: int = 60, **shape) -> Path:
    """A tiny model briefly pretrained (plain AdamW, full parameters) on the grammar's prose, saved as a
    pretraining run (what `--base`/`--policy` read): it knows the words, not the question-answer format."""
    from tokenizers import Tokenizer

    vocab = json.loads((tokens / "index.json").read_text())["vocab_size"]
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=vocab, **{"dim": 32, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2,
                                           "max_seq_len": 64, **shape})
    model = Transformer(cfg)
    tok = Tokenizer.from_file(str(tokens / "tokenizer.json"))
    ids = torch.tensor([t for e in tok.encode_batch(make_documents(300, seed + 1)) for t in (*e.ids, 0)])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(pretrain_steps):
        starts = torch.randint(len(ids) - 33, (16,), generator=gen)
        batch = torch.stack([ids[s : s + 33] for s in starts.tolist()])
        loss = cross_entropy(model(batch[:, :-1]), batch[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    save_transformer(model, run, pretrain_steps, tokens / "tokenizer.json")
    return Path(run)
