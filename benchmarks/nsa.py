"""Native sparse attention (trainer/model/nsa.py) against full attention: validation loss at equal steps
on the tiny preset, and attention FLOPs at 4k/16k/64k tokens (computed, not timed).

    .venv/bin/python benchmarks/nsa.py --steps 200 --seq-len 256 --json /tmp/nsa.json

Data: GSM8K train questions and solutions (pipeline/resources/eval/gsm8k_train.jsonl.gz, real text)
in SmolLM2's tokenizer, its `--vocab` - 1 most frequent tokens kept (the rest one shared id), packed
into `--seq-len` windows; the last windows are validation. Both
models: the tiny preset (dim 64, 2 layers, 4 heads, 2 KV heads) at the same seed, data order, AdamW
and learning rate; only the attention differs. NSA sizes here are scaled to the short sequence
(block 16, stride 8, select block 32, top 2, window 64: each query sees at most 128 tokens plus the
compressed ones); the FLOPs table uses the paper's (32, 16, 64, 16, 512) on SmolLM2-135M's shape.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py shadows
sys.path.insert(0, os.path.dirname(HERE))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(HERE).parent
TRAIN_TEXT = REPO / "pipeline" / "resources" / "eval" / "gsm8k_train.jsonl.gz"
SHORT_NSA = {"block": 16, "stride": 8, "select_block": 32, "top_n": 2, "window": 64}
SMOLLM2 = {"n_heads": 9, "head_dim": 64, "n_kv_heads": 3, "n_layers": 30}


def windows(tok, seq_len: int, max_docs: int, vocab: int, val_windows: int) -> tuple[torch.Tensor, torch.Tensor]:
    from trainer.eval.real_eval import read_jsonl

    ids: list[int] = []
    for r in read_jsonl(TRAIN_TEXT)[:max_docs]:
        ids += tok.encode(f"{r['question']}\n{r['answer']}\n\n", add_special_tokens=False).ids
    # the `vocab` - 1 most frequent tokens keep an id, the rest share the last: a 49k-row head and
    # embedding would cost more than the tiny model itself
    counts = torch.bincount(torch.tensor(ids))
    remap = torch.full((len(counts),), vocab - 1, dtype=torch.long)
    remap[counts.argsort(descending=True)[: vocab - 1]] = torch.arange(vocab - 1)
    n = len(ids) // (seq_len + 1)
    data = remap[torch.tensor(ids[: n * (seq_len + 1)])].view(n, seq_len + 1)
    n_val = min(val_windows, max(2, n // 20))
    return data[:-n_val], data[-n_val:]


def train(attention: str, train_set, val_set, a, vocab: int) -> list[dict]:
    from trainer.model.transformer import Transformer, cross_entropy, model_config

    torch.manual_seed(a.seed)
    over = {"vocab_size": vocab, "max_seq_len": a.seq_len, "attention": attention}
    if attention == "nsa":
        over["nsa"] = SHORT_NSA
    model = Transformer(model_config("tiny", over))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    curve, t0 = [], time.perf_counter()
    for step in range(1, a.steps + 1):
        batch = train_set[torch.randint(len(train_set), (a.batch,), generator=gen)]
        loss = cross_entropy(model(batch[:, :-1]), batch[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % a.eval_every == 0 or step == a.steps:
            model.eval()
            with torch.no_grad():
                val = cross_entropy(model(val_set[:, :-1]), val_set[:, 1:]).item()
            model.train()
            curve.append({"step": step, "train_loss": round(loss.item(), 4), "val_loss": round(val, 4),
                          "seconds": round(time.perf_counter() - t0, 1)})
            print(attention, json.dumps(curve[-1]), flush=True)
    return curve


def flops_table() -> list[dict]:
    from trainer.model.nsa import NSAConfig, attention_flops

    s = SMOLLM2
    rows = []
    for t in (4096, 16384, 65536):
        full = s["n_layers"] * attention_flops(t, s["n_heads"], s["head_dim"], s["n_kv_heads"])
        nsa = s["n_layers"] * attention_flops(t, s["n_heads"], s["head_dim"], s["n_kv_heads"], NSAConfig())
        rows.append({"tokens": t, "full_tflop": full / 1e12, "nsa_tflop": nsa / 1e12, "ratio": full / nsa})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokenizer", type=Path, default=REPO / "data" / "models" / "smollm2-135m-instruct" / "hf" / "tokenizer.json")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--eval-every", type=int, default=25)
    p.add_argument("--max-docs", type=int, default=2000)
    p.add_argument("--vocab", type=int, default=2048, help="most frequent SmolLM2 tokens kept (+1 for the rest)")
    p.add_argument("--val-windows", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(a.tokenizer))
    train_set, val_set = windows(tok, a.seq_len, a.max_docs, a.vocab, a.val_windows)
    print(f"GSM8K train text in SmolLM2 tokens (top {a.vocab - 1} kept): {len(train_set)} train / "
          f"{len(val_set)} val windows of {a.seq_len}")
    curves = {name: train(name, train_set, val_set, a, a.vocab) for name in ("sdpa", "nsa")}
    print("\n| step | full attention val loss | NSA val loss |\n| --- | --- | --- |")
    for f, n in zip(curves["sdpa"], curves["nsa"], strict=True):
        print(f"| {f['step']} | {f['val_loss']:.3f} | {n['val_loss']:.3f} |")
    flops = flops_table()
    print("\n| tokens | full causal attention TFLOP (30 layers) | NSA TFLOP | full / NSA |\n| --- | --- | --- | --- |")
    for r in flops:
        print(f"| {r['tokens']:,} | {r['full_tflop']:.2f} | {r['nsa_tflop']:.2f} | {r['ratio']:.1f}x |")
    if a.json:
        a.json.write_text(json.dumps({"curves": curves, "flops": flops, "args": vars(a)}, default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
