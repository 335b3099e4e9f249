"""Quantized inference and decoding speed-ups, each printed as a ratio against its baseline measured
in the same run (issue 9's goals in brackets):

- token_perplexity of int8, int4-RTN and int4-GPTQ over fp32's          [int8 <= 1.005, GPTQ <= 1.05]
- greedy decode tokens/s with the KV cache over recomputing the whole sequence every step,
  at 256 new tokens, batch 1                                           [>= 5x]
- speculative decoding (greedy, k drafts per target pass) over plain target decoding, with the
  draft acceptance rate                                                 [>= 1.5x at acceptance >= 0.6]

    python benchmarks/inference.py                                       # trains its own models
    python benchmarks/inference.py --model <run|hf dir> --tokens <tokens dir> [--draft <dir>]

Without --model it trains a target (dim 256, 4 layers, ~3M parameters besides the embedding) and a
draft (dim 64, 2 layers) with plain AdamW on generated grammar text (tests/trainer/token_fixture.py)
for --steps steps: a few CPU minutes. That text is far more regular than real data, so its
perplexities and acceptance rates are not those of a model trained on the pipeline's corpus.
Timings alternate the two sides of each ratio over --rounds rounds and keep the median.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder leads sys.path, and benchmarks/tokenize.py would shadow the stdlib's.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(HERE).parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

TARGET = {"dim": 256, "n_layers": 4, "n_heads": 8, "n_kv_heads": 4, "max_seq_len": 512}
DRAFT = {"dim": 64, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2, "max_seq_len": 512}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="trained model (run dir, HF export); default: train one here")
    p.add_argument("--tokens", help="tokens dir (val shards for perplexity, train shards for GPTQ)")
    p.add_argument("--draft", help="draft model for speculative decoding; default: train one here")
    p.add_argument("--steps", type=int, default=200, help="training steps when training here (4 x 256 tokens)")
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--k", type=int, default=4, help="draft tokens per target pass")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-windows", type=int, default=64)
    p.add_argument("--group-size", type=int, default=128)
    p.add_argument("--calib-samples", type=int, default=64)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--target", default="bench", help="shape trained here: bench (below) or a trainer preset (125m)")
    p.add_argument("--batch", type=int, default=4, help="training windows of 256 tokens per step")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--save-dir", help="write the models trained here as HF folders (target_hf, draft_hf) + tokens")
    p.add_argument("--json", help="also write the numbers here")
    return p.parse_args(argv)


def train_model(shape: dict, tokens: Path, steps: int, seq_len: int = 256, batch: int = 4, seed: int = 0,
                lr: float = 3e-3, device: str = "cpu"):
    from trainer.model.transformer import ModelConfig, Transformer, cross_entropy
    from trainer.train.data import PackedWindows, TokenShards

    shards = TokenShards(tokens)
    torch.manual_seed(seed)
    model = Transformer(ModelConfig(vocab_size=shards.vocab_size, **shape)).to(device)
    windows = PackedWindows(shards.split("train"), seq_len)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = windows.batch(torch.randint(len(windows), (batch,), generator=gen).tolist())
        loss = cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps:
            print(f"  dim {shape['dim']} step {step}/{steps} loss {loss.item():.3f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return model.eval()


def save_models(root: Path, target, draft, tokens: Path, target_given: bool, draft_given: bool) -> None:
    import shutil

    from trainer.model.export import write_hf_folder

    root.mkdir(parents=True, exist_ok=True)
    for name, model, given in (("target_hf", target, target_given), ("draft_hf", draft, draft_given)):
        if not given:
            state = {k: v.cpu() for k, v in model.state_dict().items()}
            write_hf_folder(state, model.cfg, root / name, tokens / "tokenizer.json")
    if not (root / "tokens").exists():
        shutil.copytree(tokens, root / "tokens")
    print(f"saved {root}/target_hf, draft_hf, tokens")


def timed(fn) -> float:
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def alternate(fns: dict, rounds: int) -> dict[str, float]:
    """Median seconds per function, run in alternating order so machine load hits each alike."""
    times = {name: [] for name in fns}
    for r in range(rounds):
        for name in (list(fns) if r % 2 == 0 else list(reversed(fns))):
            times[name].append(timed(fns[name]))
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from trainer.eval.metrics import token_perplexity
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model
    from trainer.infer.speculative import speculative_generate
    from trainer.quant.gptq import calibration_windows
    from trainer.quant.linear import QuantConfig, model_bytes
    from trainer.quant.quantize import quantize_model
    from trainer.train.data import TokenShards

    torch.manual_seed(0)
    tokens = Path(args.tokens) if args.tokens else None
    if tokens is None:
        if args.model:
            print("error: --model needs --tokens", file=sys.stderr)
            return 2
        from tests.trainer.token_fixture import write_token_shards

        tokens = write_token_shards(Path(tempfile.mkdtemp(prefix="bench-inference-")) / "tokens", n_docs=6000,
                                    vocab_size=1024)
        print(f"token shards: {tokens}")
    dev = args.device
    if args.model:
        target = load_model(args.model, dev).model
    else:
        from trainer.model.transformer import PRESETS

        shape = TARGET if args.target == "bench" else {**PRESETS[args.target], "max_seq_len": 512}
        print(f"training target {shape} for {args.steps} steps on {dev}")
        target = train_model(shape, tokens, args.steps, batch=args.batch, lr=args.lr, device=dev)
    if args.draft:
        draft = load_model(args.draft, dev).model
    else:
        print(f"training draft {DRAFT} for {args.steps} steps on {dev}")
        draft = train_model(DRAFT, tokens, args.steps, batch=args.batch, seed=1, device=dev)
    if args.save_dir:
        save_models(Path(args.save_dir), target, draft, tokens, bool(args.model), bool(args.draft))
    shards = TokenShards(tokens)
    seq_len = min(target.cfg.max_seq_len, 256)
    print(f"torch threads: {torch.get_num_threads()}, device {dev}"
          + (f" ({torch.cuda.get_device_name()})" if dev.startswith("cuda") else ""))

    results: dict = {"target_params": target.num_params(), "draft_params": draft.num_params()}
    # 1. Quality of the quantized variants.
    ppl = {"fp32": token_perplexity(target, shards, seq_len, args.max_windows)}
    nbytes = {"fp32": model_bytes(target)}
    calib = calibration_windows(tokens, QuantConfig(calib_samples=args.calib_samples), seq_len)
    for method in ("int8", "int4-rtn", "int4-gptq"):
        t0 = time.perf_counter()
        q = quantize_model(copy.deepcopy(target), QuantConfig(method=method, group_size=args.group_size), calib)
        secs = time.perf_counter() - t0
        ppl[method], nbytes[method] = token_perplexity(q, shards, seq_len, args.max_windows), model_bytes(q)
        print(f"{method:>9}: token_perplexity {ppl[method]:.4f} / fp32 {ppl['fp32']:.4f} = "
              f"{ppl[method] / ppl['fp32']:.4f} | model bytes {nbytes[method] / nbytes['fp32']:.3f} of fp32 "
              f"| quantized in {secs:.1f} s")
    results["token_perplexity"], results["model_bytes"] = ppl, nbytes

    # 2. KV cache against recomputation, 256 new tokens at batch 1.
    prompt = [[int(t) for t in shards.split("val")[0][:16]]]
    n = args.new_tokens
    generate(target, prompt, 8)  # warm-up
    t = alternate({"cache": lambda: generate(target, prompt, n),
                   "recompute": lambda: generate(target, prompt, n, use_cache=False)}, args.rounds)
    same = generate(target, prompt, n).tokens == generate(target, prompt, n, use_cache=False).tokens
    results["kv_cache"] = {"new_tokens": n, "cache_tokens_per_s": n / t["cache"],
                           "recompute_tokens_per_s": n / t["recompute"], "speedup": t["recompute"] / t["cache"],
                           "same_tokens": same}
    print(f"KV cache: {n / t['cache']:.1f} tok/s vs recompute {n / t['recompute']:.1f} tok/s = "
          f"{t['recompute'] / t['cache']:.2f}x at {n} new tokens (greedy outputs equal: {same})")

    # 3. Speculative decoding against plain (cached) target decoding: greedy, then sampling at
    # temperature 1, where acceptance is 1 - TV(p, q) rather than "same argmax" (at the grammar's
    # near-uniform choice points two models rarely share an argmax, yet their distributions agree).
    def gen(seed):
        return torch.Generator(device=dev).manual_seed(seed)

    results["speculative"] = {}
    for temp in (0.0, 1.0):
        spec = speculative_generate(target, draft, prompt, n, args.k, temperature=temp, generator=gen(0))
        t = alternate({"plain": lambda temp=temp: generate(target, prompt, n, temperature=temp, generator=gen(1)),
                       "speculative": lambda temp=temp: speculative_generate(target, draft, prompt, n, args.k,
                                                                            temperature=temp, generator=gen(1))},
                      args.rounds)
        row = {"k": args.k, "acceptance_rate": spec.acceptance_rate, "speedup": t["plain"] / t["speculative"],
               "target_calls": spec.target_calls, "new_tokens": len(spec.tokens[0])}
        if temp == 0.0:
            row["greedy_equal"] = spec.tokens == generate(target, prompt, n).tokens
        results["speculative"][f"temperature_{temp:g}"] = row
        print(f"speculative (k={args.k}, temperature {temp:g}): {row['speedup']:.2f}x over plain target decoding, "
              f"acceptance {spec.acceptance_rate:.3f}, {spec.target_calls} target passes for {row['new_tokens']} "
              f"tokens" + (f" (greedy outputs equal: {row['greedy_equal']})" if temp == 0.0 else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
