"""Bits per byte of a trained run on a fixed held-out set of real text.

    python -m trainer.experiments.heldout --run DIR --text pipeline/resources/eval/heldout_text.jsonl.gz --out FILE

Data ablations compare models trained on variants of a data run; each variant may train its own
tokenizer, so per-token loss is not comparable across them. Bits per byte is: the summed next-token
negative log-likelihood of every document (non-overlapping windows, each document on its own, as
trainer/eval/real_eval.py scores perplexity) over ln 2 times the documents' UTF-8 bytes (the Pile's
and DCLM's tokenizer-free metric). The text is a bundled set none of the variants trained on.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F


@torch.no_grad()
def bits_per_byte(model, tokenizer, texts: list[str], seq_len: int, max_bytes: int = 0) -> tuple[float, int, int]:
    """(bits per byte, tokens scored, bytes) over whole documents; `max_bytes` > 0 stops after about that many."""
    nll, tokens, nbytes = 0.0, 0, 0
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        if len(ids) < 2:
            continue
        for start in range(0, len(ids) - 1, seq_len):
            window = torch.tensor(ids[start:start + seq_len + 1])[None]
            logits = model(window[:, :-1]).float()
            nll += F.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
            tokens += window.shape[1] - 1
        # the first token of a document is not predicted: its bytes are not counted either
        nbytes += len(text.encode("utf-8")) - len(tokenizer.decode(ids[:1]).encode("utf-8"))
        if 0 < max_bytes <= nbytes:
            break
    if nbytes <= 0:
        raise ValueError("no held-out document with at least two tokens")
    return nll / (math.log(2) * nbytes), tokens, nbytes


def main(argv: list[str] | None = None) -> int:
    from tokenizers import Tokenizer

    from trainer.eval.real_eval import read_jsonl
    from trainer.model.checkpoint import load_transformer, tokenizer_of

    p = argparse.ArgumentParser(prog="python -m trainer.experiments.heldout", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="training run directory (checkpoints/, tokenizer.json)")
    p.add_argument("--text", required=True, help="JSONL(.gz) with a 'text' field")
    p.add_argument("--out", required=True, help="JSON file: bits_per_byte, tokens, bytes")
    p.add_argument("--max-bytes", type=int, default=200_000, help="stop after about this many bytes (0: all)")
    args = p.parse_args(argv)
    tokenizer_path = tokenizer_of(args.run)
    if not Path(args.text).is_file() or tokenizer_path is None:
        print(f"error: no held-out text {args.text} or no tokenizer in {args.run}", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = load_transformer(args.run).eval()
    texts = [r["text"] for r in read_jsonl(args.text) if r.get("text")]
    bpb, tokens, nbytes = bits_per_byte(model, Tokenizer.from_file(str(tokenizer_path)), texts,
                                        model.cfg.max_seq_len, args.max_bytes)
    result = {"bits_per_byte": bpb, "tokens": tokens, "bytes": nbytes, "text": str(args.text)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
