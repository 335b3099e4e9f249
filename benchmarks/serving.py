"""vLLM's serving features on the synth workload, as ratios measured in one run (CPU engine, .venv-llm).

    python benchmarks/serving.py --model data/models/smollm2-135m-instruct/hf [--out serving.json]

Workload: WRAP rephrase prompts (pipeline/synth/generator.py) over the shipped reference prose
(pipeline/resources/quality_reference_en.jsonl, CPython docstrings). Engines are started with
pipeline/llm/serve.py's defaults (float32, enforce_eager, 1 GiB KV cache) and one feature changed:
  1. concurrency 1 / 8 / 32: completion tokens/s and mean time to first token (streamed)
  2. prefix caching on vs off: prompts sharing a ~1,500-token system prompt
  3. chunked prefill on vs off: long prompts (~3,000 tokens) with short ones in the same batch
  4. speculative decoding, n-gram prompt lookup (rephrasing copies much of its prompt)
  5. baseline: the same prompts through in-process transformers `generate` (greedy, one at a time)
A feature the CPU backend refuses is reported with the engine's error line. Numbers are from SmolLM2-135M
on whatever CPU runs this; only the ratios within one run compare.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]  # benchmarks/tokenize.py shadows the stdlib
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

from pipeline.llm.serve import EngineError, ServeConfig, VLLMServer  # noqa: E402
from pipeline.synth.generator import rephrase_messages  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "pipeline/resources/quality_reference_en.jsonl"


def docs(n: int, min_chars: int = 400) -> list[str]:
    texts = [json.loads(line)["text"] for line in REFERENCE.read_text().splitlines()]
    return [t for t in texts if len(t) >= min_chars][:n]


def one(base_url: str, model: str, messages: list[dict], max_tokens: int) -> dict:
    """One streamed chat completion: time to first token, completion tokens, seconds."""
    t0 = time.monotonic()
    ttft, tokens = None, 0
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
            "stream_options": {"include_usage": True}}
    with requests.post(f"{base_url}/chat/completions", json=body, stream=True, timeout=900) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content") and ttft is None:
                ttft = time.monotonic() - t0
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    return {"ttft": ttft or 0.0, "tokens": tokens, "seconds": time.monotonic() - t0}


def batch(server: VLLMServer, prompts: list[list[dict]], concurrency: int, max_tokens: int) -> dict | str:
    try:
        return _batch(server, prompts, concurrency, max_tokens)
    except requests.RequestException as e:  # a refused request is a result too (e.g. over max_model_len)
        return f"failed: {e}"[:300]


def _batch(server: VLLMServer, prompts: list[list[dict]], concurrency: int, max_tokens: int) -> dict:
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        res = list(pool.map(lambda m: one(server.base_url, server.model, m, max_tokens), prompts))
    wall = time.monotonic() - t0
    return {"requests": len(res), "concurrency": concurrency, "tokens": sum(r["tokens"] for r in res),
            "wall_s": round(wall, 2), "tokens_per_s": round(sum(r["tokens"] for r in res) / wall, 2),
            "mean_ttft_s": round(statistics.mean(r["ttft"] for r in res), 3), "ttfts": [r["ttft"] for r in res]}


def engine(model: str, log_dir: Path, name: str, **kw) -> VLLMServer | str:
    cfg = ServeConfig(model_path=model, start_timeout_s=900, **kw)
    try:
        return VLLMServer(cfg, log_dir / f"engine-{name}.log").start()
    except EngineError as e:
        lines = [ln for ln in str(e).splitlines() if "Error" in ln or "error" in ln]
        return f"refused: {(lines or [str(e)])[-1].strip()[:300]}"


def shared_prefix_prompts(n: int) -> list[list[dict]]:
    system = "You rewrite documents faithfully. Style guide:\n" + "\n".join(docs(12))[:5000]  # ~1,300 tokens
    return [[{"role": "system", "content": system}, {"role": "user", "content": f"Rewrite: {d[:300]}"}]
            for d in docs(n + 12)[12:]]


def long_and_short(n_long: int, n_short: int) -> list[list[dict]]:
    long_text = "\n".join(docs(24))[:10000]  # ~2,700 tokens: inside max_model_len 4096
    longs = [[{"role": "user", "content": f"Summarize ({i}):\n{long_text}"}] for i in range(n_long)]
    shorts = [rephrase_messages(d[:400], "wikipedia") for d in docs(n_short)]
    return [m for pair in zip(longs, shorts[:n_long], strict=False) for m in pair] + shorts[n_long:]


def transformers_baseline(model: str, prompts: list[list[dict]], max_tokens: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(os.cpu_count() or 1)  # the cores the engine has too, so the ratio compares engines
    tok = AutoTokenizer.from_pretrained(model)
    lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32).eval()
    tokens, t0 = 0, time.monotonic()
    for m in prompts:
        ids = tok.apply_chat_template(m, add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
        with torch.no_grad():
            out = lm.generate(ids, max_new_tokens=max_tokens, do_sample=False)
        tokens += out.shape[1] - ids.shape[1]
    wall = time.monotonic() - t0
    return {"requests": len(prompts), "tokens": tokens, "wall_s": round(wall, 2), "tokens_per_s": round(tokens / wall, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--out", default="serving.json")
    p.add_argument("--max-tokens", type=int, default=64)
    args = p.parse_args()
    log_dir = Path(args.out).resolve().parent
    rephrase = [rephrase_messages(d[:1200], "wikipedia") for d in docs(32)]
    result: dict = {"model": args.model, "max_tokens": args.max_tokens}
    earlier = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
    if earlier.get("model") == args.model and earlier.get("max_tokens") == args.max_tokens:
        result = earlier  # a rerun after a crash keeps the finished parts (same model and settings)
        if "concurrency" in result:
            result["concurrency"] = {int(c): v for c, v in result["concurrency"].items()}  # JSON made them strings

    if "concurrency" not in result:
        base = engine(args.model, log_dir, "default")
        if isinstance(base, str):
            raise SystemExit(f"the default engine did not start: {base}")
        try:
            batch(base, rephrase[:2], 2, 8)  # warm-up
            result["concurrency"] = {c: batch(base, rephrase[:n], c, args.max_tokens)
                                     for c, n in ((1, 4), (8, 16), (32, 32))}
            result["prefix_caching_on"] = batch(base, shared_prefix_prompts(16), 8, 16)
            result["chunked_prefill_on"] = batch(base, long_and_short(4, 8), 12, 16)
            result["spec_off"] = batch(base, rephrase[:4], 1, args.max_tokens)
        finally:
            base.stop()
    variants = {"prefix_caching_off": ({"enable_prefix_caching": False}, lambda s: batch(s, shared_prefix_prompts(16), 8, 16)),
                "chunked_prefill_off": ({"enable_chunked_prefill": False}, lambda s: batch(s, long_and_short(4, 8), 12, 16)),
                "spec_ngram": ({"extra_args": ["--speculative-config", json.dumps(
                    {"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4, "prompt_lookup_min": 2})]},
                    lambda s: batch(s, rephrase[:4], 1, args.max_tokens))}
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))  # partial results survive a crash
    for name, (kw, run) in variants.items():
        if name in result:
            continue
        srv = engine(args.model, log_dir, name, **kw)
        if isinstance(srv, str):
            result[name] = srv
            continue
        try:
            result[name] = run(srv)
        finally:
            srv.stop()
        Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    if "transformers_generate" not in result:
        result["transformers_generate"] = transformers_baseline(args.model, rephrase[:4], args.max_tokens)
    for v in [*result["concurrency"].values(), *result.values()]:
        if isinstance(v, dict):
            v.pop("ttfts", None)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(table(result))


def table(r: dict) -> str:
    def row(name, v, note=""):
        if not isinstance(v, dict):
            return f"| {name} | {v} | | |"
        return f"| {name} | {v['tokens_per_s']} | {v.get('mean_ttft_s', '')} | {note} |"

    base1 = r["concurrency"][1]["tokens_per_s"]
    lines = ["| setting | completion tokens/s | mean TTFT s | ratio |", "|---|---|---|---|"]
    for c, v in r["concurrency"].items():
        lines.append(row(f"vLLM, concurrency {c}", v, f"{v['tokens_per_s'] / base1:.2f}x concurrency 1"))
    for on, off, what in (("prefix_caching_on", "prefix_caching_off", "prefix caching"),
                          ("chunked_prefill_on", "chunked_prefill_off", "chunked prefill")):
        lines.append(row(f"{what} on", r[on]))
        note = "" if not (isinstance(r[off], dict) and isinstance(r[on], dict)) else f"TTFT on/off {r[on]['mean_ttft_s'] / max(r[off]['mean_ttft_s'], 1e-9):.2f}"
        lines.append(row(f"{what} off", r[off], note))
    lines.append(row("no speculation, concurrency 1", r["spec_off"]))
    spec = r["spec_ngram"]
    lines.append(row("n-gram speculation, concurrency 1", spec,
                     "" if not (isinstance(spec, dict) and isinstance(r["spec_off"], dict)) else f"{spec['tokens_per_s'] / r['spec_off']['tokens_per_s']:.2f}x"))
    hf = r["transformers_generate"]
    lines.append(f"| transformers generate, one at a time | {hf['tokens_per_s']} | | vLLM c=1 "
                 f"{base1 / hf['tokens_per_s']:.2f}x, c=32 {r['concurrency'][32]['tokens_per_s'] / hf['tokens_per_s']:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
