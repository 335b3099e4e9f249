"""`python -m trainer kv-eval`: a model under a KV-cache budget (trainer/infer/kv_eviction.py) against its full cache.

    python -m trainer kv-eval --model DIR --out EVAL_DIR --policy snapkv:256 \
        [--tokens TOKENS | --heldout-text JSONL] [--gsm8k JSONL --gsm8k-items 50]

Per side (full cache, then the policy): token perplexity, the text fed `--chunk` tokens per forward
and the cache evicted to the budget after each (so the budget holds between chunks; each chunk's own
tokens are extra), on real held-out documents (`--heldout-text`, each tokenized alone and cut at
`--max-tokens`) or on the val shards (`--tokens`); GSM8K exact match with the policy in the
generator (`--gsm8k`); and the KV bytes of one sequence at the budget. Writes `<out>/report.json`.
A policy spec the budget cannot hold (below sinks + window + 1) exits 2.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from trainer.config import ConfigError
from trainer.infer.kv_cache import KVCache
from trainer.infer.kv_eviction import KVPolicy, KVPolicyError, kv_bytes_per_token, parse_policy
from trainer.infer.load_model import ModelLoadError, load_model

USER_ERRORS = (ModelLoadError, KVPolicyError)


@torch.no_grad()
def chunked_nll(model, ids: list[int], policy: KVPolicy | None, chunk: int) -> tuple[float, int]:
    """(summed next-token NLL, tokens scored) of `ids`, fed `chunk` tokens a forward through a cache."""
    if len(ids) < 2:
        return 0.0, 0
    device = model.tok_embeddings.weight.device
    cache = policy.make_cache(model.cfg) if policy else KVCache(model.cfg, 1, len(ids), device=device)
    x = torch.tensor(ids, device=device)[None]
    nll = 0.0
    for start in range(0, len(ids) - 1, chunk):
        end = min(start + chunk, len(ids) - 1)
        logits = model(x[:, start:end], cache=cache).float()
        nll += F.cross_entropy(logits[0], x[0, start + 1:end + 1], reduction="sum").item()
    return nll, len(ids) - 1


def sequences(args: argparse.Namespace, tokenizer) -> list[list[int]]:
    if args.heldout_text:
        from trainer.eval.real_eval import read_jsonl

        if tokenizer is None:
            raise ConfigError("--heldout-text needs the model's tokenizer.json beside it")
        docs = [tokenizer.encode(r["text"], add_special_tokens=False).ids for r in read_jsonl(args.heldout_text)]
        return [d[: args.max_tokens] for d in docs if len(d) > 1][: args.max_docs]
    from trainer.train.data import PackedWindows, TokenShards

    windows = PackedWindows(TokenShards(args.tokens).split("val"), args.max_tokens)
    return [windows[i].tolist() for i in range(min(len(windows), args.max_docs))]


def perplexity(model, seqs: list[list[int]], policy: KVPolicy | None, chunk: int) -> float:
    parts = [chunked_nll(model, s, policy, chunk) for s in seqs]
    return math.exp(sum(p[0] for p in parts) / max(1, sum(p[1] for p in parts)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="run dir, checkpoint dir, HF or quantized folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--policy", required=True, help="name:budget[:sinks[:window]], e.g. snapkv:256, streaming:128:4")
    parser.add_argument("--tokens", help="tokens dir: perplexity on its val shards")
    parser.add_argument("--heldout-text", help="JSONL(.gz) of real documents: perplexity on them instead")
    parser.add_argument("--max-tokens", type=int, default=1024, help="tokens per document (val window length)")
    parser.add_argument("--max-docs", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--gsm8k", help="GSM8K test JSONL(.gz): exact match with the policy in the generator")
    parser.add_argument("--gsm8k-items", type=int, default=50)
    parser.add_argument("--max-new-tokens", type=int, default=128)


def run_cli(args: argparse.Namespace) -> int:
    policy = parse_policy(args.policy)
    if policy is None:
        raise ConfigError("--policy must name an eviction policy (streaming, h2o, snapkv) and a budget")
    if not (args.tokens or args.heldout_text):
        raise ConfigError("kv-eval needs --tokens (val shards) or --heldout-text for perplexity")
    loaded = load_model(args.model)
    tokenizer = None
    if loaded.tokenizer is not None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(loaded.tokenizer))
    seqs = sequences(args, tokenizer)
    if not seqs:
        raise ConfigError(f"no document or val window of {args.max_tokens} tokens to score (lower --max-tokens)")
    model = loaded.model
    report = {"model": str(args.model), "policy": {**vars(policy)}, "chunk": args.chunk,
              "kv_bytes_per_sequence": {"full": (max(map(len, seqs)) - 1) * kv_bytes_per_token(model.cfg),
                                        "policy": policy.budget * kv_bytes_per_token(model.cfg)},
              "perplexity_tokens": sum(len(s) - 1 for s in seqs),
              "perplexity": {"full": perplexity(model, seqs, None, args.chunk),
                             "policy": perplexity(model, seqs, policy, args.chunk)}}
    if args.gsm8k:
        if tokenizer is None:
            raise ConfigError("--gsm8k needs the model's tokenizer.json beside it")
        from trainer.eval.real_eval import gsm8k_exact_match, gsm8k_items

        items = gsm8k_items(args.gsm8k, args.gsm8k_items)
        report["gsm8k_items"] = len(items)
        report["gsm8k"] = {side: gsm8k_exact_match(model, tokenizer, items, args.max_new_tokens, kv_policy=p)[0]
                           for side, p in (("full", None), ("policy", policy))}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}/report.json: perplexity full {report['perplexity']['full']:.3f}, "
          f"{args.policy} {report['perplexity']['policy']:.3f}")
    return 0
