"""KV-cache eviction on SmolLM2-135M-Instruct: needle and long-QA accuracy, and perplexity on long
real text, vs KV bytes, for StreamingLLM, H2O and SnapKV at budgets of 10/25/50% (100% is the full
cache: tests/trainer/test_kv_eviction.py shows a budget holding every token equals it).

    .venv/bin/python benchmarks/kv_eviction.py --items 6 --item-tokens 1200 --ppl-tokens 1536

Items: the synth stage's own generators (pipeline/synth/long_rl.py needle-in-a-haystack,
pipeline/synth/long_sft.py multi-document QA, template mode, no LLM) run here over the real held-out
documents (pipeline/resources/eval/heldout_text.jsonl.gz, CPython docstrings) as haystack, at about
`--item-tokens` SmolLM2 tokens each (the stage's defaults are 4k/8k; CPU time bounds this run).
Each item is a ChatML user turn, answered greedily; right when the answer's number is in the reply.
Budgets are a share of the longest prompt in the batch. Perplexity: GPL-3's text
(/usr/share/common-licenses/GPL-3, one long real document, surely in SmolLM2's pretraining data)
and the held-out docstrings concatenated, `--ppl-tokens` each, fed in `--chunk`-token steps after a
`--chunk`-token prefill, the cache evicted to the budget after every step (the budget holds between
chunks; within one, the chunk's own tokens are extra).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py shadows
sys.path.insert(0, os.path.dirname(HERE))

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(HERE).parent
HELDOUT = REPO / "pipeline" / "resources" / "eval" / "heldout_text.jsonl.gz"


def long_items(tok, n: int, target: int) -> list[dict]:
    """Needle (long_rl) and multi-document QA (long_sft) items over the held-out documents."""
    from pipeline.synth import long_rl, long_sft
    from trainer.eval.real_eval import read_jsonl

    docs = [{"id": r["id"], "text": r["text"], "domain": "heldout"} for r in read_jsonl(HELDOUT)]
    bpt = 3.4  # docs/facts.md: bytes per token the stage estimates with
    rl, _ = long_rl.generate(docs, long_rl.LongRlConfig(target_tokens=target, per_group=n, tasks=["needle"],
                                                        bytes_per_token=bpt), seed=0)
    sft, _ = long_sft.generate(docs, long_sft.LongSftConfig(target_tokens=target, per_group=n,
                                                            bytes_per_token=bpt, max_doc_chars=2500), seed=0)
    items = [{"kind": "needle", "messages": r["messages"], "answer": str(r["answer"])} for r in rl[:n]]
    for r in sft[:n]:
        answer = re.findall(r"missing number is (\S+?)\.?$", r["messages"][-1]["content"])
        if answer:
            items.append({"kind": "long_qa", "messages": r["messages"][:-1], "answer": answer[0]})
    for it in items:
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in it["messages"])
        it["ids"] = tok.encode(turns + "<|im_start|>assistant\n", add_special_tokens=False).ids
    return items


def accuracy(model, items: list[dict], policy, max_new: int, stops: list[int]) -> dict[str, float]:
    from trainer.infer.generate import generate

    out = generate(model, [it["ids"] for it in items], max_new, stop_ids=stops, kv_policy=policy)
    right: dict[str, list[bool]] = {}
    for it, toks in zip(items, out.tokens, strict=True):
        right.setdefault(it["kind"], []).append(it["answer"] in TOK.decode(toks, skip_special_tokens=True))
    return {k: sum(v) / len(v) for k, v in right.items()}


def main(argv=None) -> int:
    global TOK
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="HF folder (default: SmolLM2-135M-Instruct from its wheel)")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--items", type=int, default=6, help="needle items and long-QA items, each")
    p.add_argument("--item-tokens", type=int, default=1200)
    p.add_argument("--max-new-tokens", type=int, default=24)
    p.add_argument("--ppl-tokens", type=int, default=1536)
    p.add_argument("--ppl-docs", default="GPL-3,heldout-concat")
    p.add_argument("--chunk", type=int, default=128)
    p.add_argument("--budgets", default="0.1,0.25,0.5")
    p.add_argument("--policies", default="streaming,h2o,snapkv")
    p.add_argument("--full", type=int, default=1, help="0: skip the full-cache row (one process per policy)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from trainer.eval.kv_eval import perplexity
    from trainer.eval.real_eval import read_jsonl
    from trainer.infer.kv_eviction import KVPolicy, kv_bytes_per_token
    from trainer.infer.load_model import load_model

    folder = a.model or smollm2_hf_folder(a.cache)
    model = load_model(folder).model
    TOK = Tokenizer.from_file(str(folder / "tokenizer.json"))
    stops = [TOK.token_to_id("<|im_end|>"), TOK.token_to_id("<|endoftext|>")]
    items = long_items(TOK, a.items, a.item_tokens)
    width = max(len(it["ids"]) for it in items)
    docs = {"GPL-3": Path("/usr/share/common-licenses/GPL-3").read_text(),
            "heldout-concat": "\n\n".join(r["text"] for r in read_jsonl(HELDOUT))}
    ppl_ids = {k: TOK.encode(docs[k], add_special_tokens=False).ids[: a.ppl_tokens] for k in a.ppl_docs.split(",")}
    per_token = kv_bytes_per_token(model.cfg)
    print(f"model {folder}; {len(items)} items ({sum(it['kind'] == 'needle' for it in items)} needle), "
          f"prompt tokens {min(len(it['ids']) for it in items)}-{width}; ppl docs "
          f"{ {k: len(v) for k, v in ppl_ids.items()} }; fp32 KV bytes/token {per_token:,}", flush=True)
    rows = []
    configs = [("full", 1.0)] * a.full + [(n, float(b)) for n in a.policies.split(",") for b in a.budgets.split(",")]
    for name, share in configs:
        t0 = time.perf_counter()
        def make(n: int, name=name, share=share):
            return None if name == "full" else KVPolicy(name, max(int(share * n), 1))

        try:
            acc = accuracy(model, items, make(width), a.max_new_tokens, stops)
            ppl = {k: round(perplexity(model, [ids], make(len(ids)), a.chunk), 3) for k, ids in ppl_ids.items()}
        except ValueError as e:  # a budget below the policy's minimum
            print(f"{name} {share}: {e}")
            continue
        row = {"policy": name, "budget": share, "kv_bytes_item": int(share * width) * per_token,
               **{f"acc_{k}": round(v, 3) for k, v in acc.items()}, **{f"ppl_{k}": v for k, v in ppl.items()},
               "seconds": round(time.perf_counter() - t0, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = [k for k in rows[0] if k.startswith(("acc_", "ppl_"))]
    print("\n| policy | budget | KV bytes per item (fp32) | " + " | ".join(keys) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in keys) + " |")
    for r in rows:
        print(f"| {r['policy']} | {r['budget']:.0%} | {r['kv_bytes_item']:,} | "
              + " | ".join(str(r.get(k, "-")) for k in keys) + " |")
    if a.json:
        a.json.write_text(json.dumps({"rows": rows, "args": vars(a)}, default=str, indent=2))
    return 0


TOK = None

if __name__ == "__main__":
    sys.exit(main())
