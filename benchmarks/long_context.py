"""Long-context extension: perplexity past the original context, before and after YaRN (trainer/train/extend.py).

    python benchmarks/long_context.py                              # tiny model on generated text, ~1 min
    python benchmarks/long_context.py --base-steps 600 --target 512 --control
    python benchmarks/long_context.py --base data/<run>/pretrain/<id> --tokens data/<run>/tokens --target 8192

Rows, each on the same validation windows of `--target` tokens (and of the original length):
- base, plain RoPE: the pretrained model read past its context, no scaling (the baseline);
- base + YaRN, no fine-tuning: only the frequencies and mscale changed (YaRN's "training-free" use);
- YaRN extension: trainer/train/extend.py's continued pretraining at `--target` for `--extend-steps` steps;
- with `--control`, the same continued pretraining with plain RoPE (how much of the gain is
  the extra training rather than YaRN).
Printed: token-level perplexity (exp of the mean NLL) at both lengths, and each model's ratio to the
baseline at the target length (< 1: better). Without `--base` a tiny base model is pretrained first
on the tests' generated token shards (tests/trainer/token_fixture.py).
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder leads sys.path, and benchmarks/tokenize.py would shadow the stdlib's.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
os.environ.setdefault("DS_ACCELERATOR", "cpu")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(HERE).parent
sys.path.insert(0, str(REPO))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", help="a pretraining run to extend (default: pretrain a tiny one here)")
    p.add_argument("--tokens", help="tokens directory (default: generated, as in the tests)")
    p.add_argument("--original", type=int, default=64, help="context of the tiny base (without --base)")
    p.add_argument("--base-steps", type=int, default=300, help="steps of the tiny base (without --base)")
    p.add_argument("--target", type=int, default=256, help="extended context length")
    p.add_argument("--extend-steps", type=int, default=50)
    p.add_argument("--windows", type=int, default=32, help="validation windows per length")
    p.add_argument("--control", action="store_true", help="also fine-tune at --target with plain RoPE")
    p.add_argument("--workdir", help="where runs go (default: a temporary directory)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from tests.trainer.tiny_runs import tiny_config
    from tests.trainer.token_fixture import write_token_shards
    from trainer.model import rope
    from trainer.model.checkpoint import load_transformer
    from trainer.train import extend
    from trainer.train.data import PackedWindows, TokenShards
    from trainer.train.pretrain import train

    torch.set_num_threads(args.threads)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="long_context_"))
    quiet = ["eval_every=0", "save_every=0", "log_every=50"]
    t0 = time.perf_counter()
    tokens = Path(args.tokens) if args.tokens else write_token_shards(work / "tokens")
    if args.base:
        base = Path(args.base)
    else:
        base = work / "base"
        train(tiny_config(tokens, base, f"steps={args.base_steps}", f"model.max_seq_len={args.original}",
                          "zero_stage=0", *quiet))
    base_model, _ = extend.base_model_config(base)
    original = rope.original_max_len(base_model.get("rope_scaling"), base_model["max_seq_len"])

    runs = {"YaRN extension": work / "extend"}
    cfg = extend.extension_config(base, str(tokens), str(runs["YaRN extension"]), args.target,
                                  overrides=[f"steps={args.extend_steps}", *quiet])
    train(cfg)
    if args.control:
        runs["plain RoPE, same fine-tuning"] = work / "control"
        train(extend.extension_config(base, str(tokens), str(work / "control"), args.target,
                                      overrides=[f"steps={args.extend_steps}", "model.rope_scaling=null", *quiet]))

    models = {"base, plain RoPE (baseline)": load_transformer(base).eval(),
              "base + YaRN, no fine-tuning": load_transformer(base, max_seq_len=args.target,
                                                               rope_scaling=cfg.model["rope_scaling"]).eval()}
    models.update({name: load_transformer(run).eval() for name, run in runs.items()})
    shards = TokenShards(tokens)
    val = {n: PackedWindows(shards.split("val"), n) for n in (original, args.target)}
    ppl = {name: {n: extend.perplexity(m, w, args.windows) for n, w in val.items()} for name, m in models.items()}
    baseline = ppl["base, plain RoPE (baseline)"][args.target]

    scaling = cfg.model["rope_scaling"]
    print(f"\nYaRN factor {scaling['factor']:g} ({original} -> {args.target} tokens), mscale "
          f"{scaling['attention_factor']:.4f}, {args.extend_steps} extension steps at LR {cfg.lr:.2e}; "
          f"{min(args.windows, len(val[args.target]))} val windows of {args.target} tokens ({work})")
    print(f"{'model':<32} {'ppl@' + str(original):>10} {'ppl@' + str(args.target):>10} {'vs baseline':>12}")
    for name, p in ppl.items():
        print(f"{name:<32} {p[original]:>10.3f} {p[args.target]:>10.3f} {p[args.target] / baseline:>11.3f}x")
    print(json.dumps({"ratio_extended_vs_no_scaling": ppl["YaRN extension"][args.target] / baseline,
                      "seconds": round(time.perf_counter() - t0, 1)}))
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
