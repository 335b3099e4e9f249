"""Evaluate a trained model and its quantized variants side by side.

    python -m trainer evaluate --model <run dir | hf dir | quantized dir> --tokens <tokens dir> --out <eval dir>
        [--variants fp32,int8,int4-rtn,int4-gptq] [--max-windows 64] [--draft <model dir> | layers:<k>]
        [--heldout-text <jsonl(.gz)>] [--gsm8k <jsonl(.gz)> --gsm8k-items 50] [--save-quantized]

Per variant: token_perplexity on the val shards (trainer/eval/metrics.py; tokenizer-level, not word
perplexity), exact match on held-out synthetic SFT/RL items, greedy decode tokens/s at batch 1,
peak memory (CUDA only: the variant's weights plus the most that decoding allocated on top; null on
CPU, where torch keeps no allocator statistics) and model bytes.
With `--heldout-text` (real documents never trained on, e.g. pipeline/resources/eval/heldout_text.jsonl.gz)
and `--gsm8k` (GSM8K test, strict final-number checker), each variant also gets those columns
(trainer/eval/real_eval.py). With `--draft`, speculative decoding of the fp32 target is timed against
plain decoding; `layers:<k>` is the target's own first k layers (trainer/infer/layer_skip.py), and a
draft whose tokenizer differs from the target's is refused.

Writes `<out>/report.json` (the contract other tools read), `report.md` and `tradeoff.png`.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from chat_templates import ChatTemplate
from trainer.eval.metrics import METRIC, decode_speed, exact_match, held_out_items, token_perplexity
from trainer.infer.load_model import ModelLoadError, load_model
from trainer.quant.linear import QuantConfig, model_bytes
from trainer.quant.quantize import quantize_model, save_quantized
from trainer.train.data import ShardError, TokenShards

VARIANTS = ("fp32", "int8", "int4-rtn", "int4-gptq")
OPTIONAL_VARIANTS = ("bf16",)


@dataclass
class EvalConfig:
    model: str
    tokens: str
    out: str
    variants: list[str] = field(default_factory=lambda: list(VARIANTS))
    max_windows: int = 64  # val windows for perplexity; 0: all
    seq_len: int = 0  # 0: the model's max_seq_len
    max_items: int = 32  # held-out SFT/RL items for exact match; 0: all
    max_new_tokens: int = 32  # per exact-match answer
    decode_tokens: int = 64  # timed greedy decode length
    group_size: int = 128
    calib_samples: int = 32
    draft: str | None = None  # a model dir, or "layers:<k>" (a layer-skipping self-draft)
    heldout_text: str = ""  # JSONL(.gz) of real held-out documents ("text")
    heldout_max_tokens: int = 4096
    gsm8k: str = ""  # GSM8K test JSONL(.gz)
    gsm8k_items: int = 50
    gsm8k_max_new_tokens: int = 128
    speculative_k: int = 4
    save_quantized: bool = False
    device: str = ""  # "": cuda when available, else cpu


def variant_model(base, variant: str, cfg: EvalConfig, calibration):
    if variant == "fp32":
        return base
    model = copy.deepcopy(base)
    if variant == "bf16":
        return model.to(torch.bfloat16)
    qcfg = QuantConfig(method=variant, group_size=cfg.group_size, calib_samples=cfg.calib_samples)
    return quantize_model(model, qcfg, calibration if variant == "int4-gptq" else None)


def evaluate(cfg: EvalConfig) -> dict:
    from tokenizers import Tokenizer

    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    unknown = set(cfg.variants) - set(VARIANTS) - set(OPTIONAL_VARIANTS)
    if unknown:
        raise ValueError(f"unknown variant(s) {sorted(unknown)}; known: {', '.join(VARIANTS + OPTIONAL_VARIANTS)}")
    loaded = load_model(cfg.model, device)
    shards = TokenShards(cfg.tokens)
    tokenizer_path = loaded.tokenizer or shards.tokenizer_path
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    items = held_out_items(cfg.tokens, cfg.max_items)
    seq_len = cfg.seq_len or loaded.model.cfg.max_seq_len
    variants = cfg.variants
    if loaded.kind == "quantized":  # already quantized: evaluate it as it is
        variants = [json.loads((Path(cfg.model) / "quant_config.json").read_text())["quant"]["method"]]
    calibration = None
    if "int4-gptq" in variants and loaded.kind != "quantized":
        from trainer.quant.gptq import calibration_windows

        calibration = calibration_windows(cfg.tokens, QuantConfig(calib_samples=cfg.calib_samples), seq_len)
    out = Path(cfg.out)
    rows = []
    for variant in variants:
        t0 = time.perf_counter()
        model = loaded.model if loaded.kind == "quantized" else variant_model(loaded.model, variant, cfg, calibration)
        quantize_s = time.perf_counter() - t0
        tps, working = decode_speed(model, shards, cfg.decode_tokens)
        weights = model_bytes(model)
        row = {"variant": variant,
               METRIC: token_perplexity(model, shards, seq_len, cfg.max_windows),
               "exact_match": exact_match(model, tokenizer, items, cfg.max_new_tokens),
               "exact_match_items": len(items),
               "decode_tokens_per_s": tps,
               # this variant's weights + what decoding allocated on top (other variants held in
               # this process are not counted); null on CPU
               "peak_memory_bytes": None if working is None else weights + working,
               "model_bytes": weights,
               "quantize_seconds": round(quantize_s, 3)}
        row |= real_columns(model, tokenizer, cfg, seq_len, ChatTemplate.beside(tokenizer_path))
        rows.append(row)
        print(f"{variant:>9}: {METRIC} {row[METRIC]:.4f} | exact_match {row['exact_match']} "
              f"({len(items)} items) | {tps:.1f} tok/s | {row['model_bytes']:,} bytes", flush=True)
        if cfg.save_quantized and variant not in ("fp32", "bf16") and loaded.kind != "quantized":
            qcfg = QuantConfig(method=variant, group_size=cfg.group_size, calib_samples=cfg.calib_samples)
            save_quantized(model, qcfg, out / "quantized" / variant, loaded.tokenizer, {"source": cfg.model})
    report = {"metric": METRIC, "model": str(cfg.model), "tokens_dir": str(cfg.tokens), "variants": rows,
              "settings": {k: v for k, v in asdict(cfg).items() if k not in ("model", "tokens", "out")} | {
                  "seq_len": seq_len, "device": device}}
    if cfg.draft:
        report["speculative"] = speculative_report(loaded.model, draft_model(cfg.draft, loaded, tokenizer, device),
                                                   shards, cfg)
    write_report(report, out)
    return report


def real_columns(model, tokenizer, cfg: EvalConfig, seq_len: int, template: ChatTemplate | None = None) -> dict:
    """Perplexity on real held-out text and GSM8K exact match (prompts in the model's chat template),
    when their files are given."""
    from trainer.eval.real_eval import gsm8k_exact_match, gsm8k_items, read_jsonl, text_perplexity

    cols: dict = {}
    if cfg.heldout_text:
        texts = [r["text"] for r in read_jsonl(cfg.heldout_text)]
        cols["heldout_text_perplexity"], cols["heldout_text_tokens"] = text_perplexity(
            model, tokenizer, texts, seq_len, cfg.heldout_max_tokens)
    if cfg.gsm8k:
        items = gsm8k_items(cfg.gsm8k, cfg.gsm8k_items)
        cols["gsm8k_exact_match"] = gsm8k_exact_match(model, tokenizer, items, cfg.gsm8k_max_new_tokens,
                                                    template=template)[0]
        cols["gsm8k_items"] = len(items)
    return cols


def draft_model(spec: str, target, tokenizer, device: str):
    """The draft for speculative decoding: "layers:<k>" or a model dir sharing the target's tokenizer."""
    from tokenizers import Tokenizer

    from trainer.infer.layer_skip import layer_skip_draft
    from trainer.infer.speculative import require_shared_vocabulary

    if spec.startswith("layers:"):
        return layer_skip_draft(target.model, int(spec.removeprefix("layers:")))
    draft = load_model(spec, device)
    if draft.tokenizer is not None:
        require_shared_vocabulary(tokenizer.get_vocab(), Tokenizer.from_file(str(draft.tokenizer)).get_vocab())
    return draft.model


def speculative_report(target, draft, shards: TokenShards, cfg: EvalConfig) -> dict:
    from trainer.infer.generate import generate
    from trainer.infer.speculative import speculative_generate

    val = shards.split("val") or shards.split("train")
    prompt = [[int(t) for t in val[0][:16]]]
    generate(target, prompt, 4)
    speculative_generate(target, draft, prompt, 4, cfg.speculative_k)  # warm-up
    t0 = time.perf_counter()
    plain = generate(target, prompt, cfg.decode_tokens)
    t1 = time.perf_counter()
    spec = speculative_generate(target, draft, prompt, cfg.decode_tokens, cfg.speculative_k)
    t2 = time.perf_counter()
    return {"draft": str(cfg.draft), "k": cfg.speculative_k, "acceptance_rate": spec.acceptance_rate,
            "target_tokens_per_s": len(plain.tokens[0]) / (t1 - t0),
            "speculative_tokens_per_s": len(spec.tokens[0]) / (t2 - t1),
            "speedup": (t1 - t0) / (t2 - t1) * len(spec.tokens[0]) / max(1, len(plain.tokens[0])),
            "greedy_outputs_equal": spec.tokens == plain.tokens}


def write_report(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(markdown(report))
    plot_tradeoff(report, out / "tradeoff.png")


# The run report (pipeline/report/evaluation.py) uses the same threshold: below it, a warning, never a bare share.
MIN_EXACT_MATCH_ITEMS = 20


def markdown(report: dict) -> str:
    fp32 = next((r for r in report["variants"] if r["variant"] == "fp32"), None)
    lines = [f"# Evaluation: {report['model']}", "",
             f"Metric: **{METRIC}** (token-level perplexity, exp of the mean next-token cross-entropy on "
             f"non-overlapping windows of the val shards of `{report['tokens_dir']}`; not word perplexity). "
             f"Exact match: greedy answers to held-out SFT/RL items, made only from val documents, checked "
             f"strictly (one final answer).", "",
             f"| variant | {METRIC} | vs fp32 | exact match (items) | decode tok/s | peak memory | model bytes |"
             + real_header(report), "| --- " * (7 + 2 * len(real_keys(report))) + "|"]
    for r in report["variants"]:
        rel = f"{100 * (r[METRIC] / fp32[METRIC] - 1):+.2f}%" if fp32 else "-"
        em = "-" if r["exact_match"] is None else f"{r['exact_match']:.3f}"
        em += f" ({r['exact_match_items']})"
        if (r["exact_match_items"] or 0) < MIN_EXACT_MATCH_ITEMS:  # a share of a handful of items is noise
            em += f" ⚠ too few items (< {MIN_EXACT_MATCH_ITEMS}) to compare"
        peak = "-" if r["peak_memory_bytes"] is None else f"{r['peak_memory_bytes']:,}"
        lines.append(f"| {r['variant']} | {r[METRIC]:.4f} | {rel} | {em} | "
                     f"{r['decode_tokens_per_s']:.1f} | {peak} | {r['model_bytes']:,} |" + real_cells(r, fp32))
    if spec := report.get("speculative"):
        lines += ["", f"Speculative decoding (draft `{spec['draft']}`, k={spec['k']}): acceptance rate "
                  f"{spec['acceptance_rate']:.3f}, {spec['speculative_tokens_per_s']:.1f} vs "
                  f"{spec['target_tokens_per_s']:.1f} tok/s plain ({spec['speedup']:.2f}x)."]
    lines += ["", "Peak memory: the variant's weights plus CUDA's allocator peak on top of them while decoding "
              "(KV cache, activations); '-' on CPU.", ""]
    return "\n".join(lines)


def real_keys(report: dict) -> list[str]:
    first = report["variants"][0] if report["variants"] else {}
    return [k for k in ("heldout_text_perplexity", "gsm8k_exact_match") if k in first]


def real_header(report: dict) -> str:
    names = {"heldout_text_perplexity": " held-out text perplexity | vs fp32 |",
             "gsm8k_exact_match": " GSM8K exact match (items) | - |"}
    return "".join(names[k] for k in real_keys(report))


def real_cells(r: dict, fp32: dict | None) -> str:
    cells = ""
    if "heldout_text_perplexity" in r:
        ppl = r["heldout_text_perplexity"]
        rel = f"{100 * (ppl / fp32['heldout_text_perplexity'] - 1):+.2f}%" if fp32 else "-"
        cells += f" {ppl:.4f} | {rel} |"
    if "gsm8k_exact_match" in r:
        cells += f" {r['gsm8k_exact_match']:.3f} ({r['gsm8k_items']}) | - |"
    return cells


def plot_tradeoff(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["variants"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "decode_tokens_per_s", "decode tokens/s (batch 1, greedy)"),
                           (axes[1], "model_bytes", "model bytes")):
        for r in rows:
            ax.scatter(r[key], r[METRIC])
            ax.annotate(r["variant"], (r[key], r[METRIC]), textcoords="offset points", xytext=(4, 4))
        ax.set_xlabel(label)
        ax.set_ylabel(METRIC)
        ax.ticklabel_format(axis="y", useOffset=False)  # show perplexities, not offsets from one
    fig.suptitle(f"{METRIC} vs speed and size")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


USER_ERRORS = (ModelLoadError, ShardError, ValueError, FileNotFoundError)


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = EvalConfig("", "", "")
    p.add_argument("--model", required=True, help="pretrain run dir, checkpoint dir, HF export or quantized dir")
    p.add_argument("--tokens", required=True, help="tokens dir (val shards, tokenizer, sft.jsonl, rl.jsonl)")
    p.add_argument("--out", required=True, help="eval dir: report.json, report.md, tradeoff.png")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated: {', '.join(VARIANTS)} (or bf16)")
    p.add_argument("--max-windows", type=int, default=d.max_windows)
    p.add_argument("--seq-len", type=int, default=d.seq_len,
                   help="perplexity window (0: the model's max_seq_len; a base's 8192 needs long val windows)")
    p.add_argument("--max-items", type=int, default=d.max_items)
    p.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens)
    p.add_argument("--decode-tokens", type=int, default=d.decode_tokens)
    p.add_argument("--group-size", type=int, default=d.group_size)
    p.add_argument("--calib-samples", type=int, default=d.calib_samples)
    p.add_argument("--draft", help="a smaller model with the same vocabulary, for speculative decoding")
    p.add_argument("--heldout-text", default="", help="JSONL(.gz) of real held-out documents for perplexity")
    p.add_argument("--heldout-max-tokens", type=int, default=d.heldout_max_tokens)
    p.add_argument("--gsm8k", default="", help="GSM8K test JSONL(.gz): strict exact match per variant")
    p.add_argument("--gsm8k-items", type=int, default=d.gsm8k_items)
    p.add_argument("--gsm8k-max-new-tokens", type=int, default=d.gsm8k_max_new_tokens)
    p.add_argument("--save-quantized", action="store_true", help="also write <out>/quantized/<variant>/")
    p.add_argument("--device", default="")


def run_cli(a: argparse.Namespace) -> int:
    cfg = EvalConfig(model=a.model, tokens=a.tokens, out=a.out, variants=[v for v in a.variants.split(",") if v],
                     max_windows=a.max_windows, seq_len=a.seq_len, max_items=a.max_items, max_new_tokens=a.max_new_tokens,
                     decode_tokens=a.decode_tokens, group_size=a.group_size, calib_samples=a.calib_samples,
                     draft=a.draft, save_quantized=a.save_quantized, device=a.device,
                     heldout_text=a.heldout_text, heldout_max_tokens=a.heldout_max_tokens, gsm8k=a.gsm8k,
                     gsm8k_items=a.gsm8k_items, gsm8k_max_new_tokens=a.gsm8k_max_new_tokens)
    evaluate(cfg)
    print(f"wrote {Path(cfg.out) / 'report.json'}, report.md, tradeoff.png")
    return 0
