"""Data-ablation statistics: per variant the mean and standard deviation over seeds, and which
differences between variants exceed their noise.

    python -m trainer.experiments.ablation --runs ablation.csv [--metric heldout_bpb] --out ablation.json

ablation.csv: columns variant, seed and the metric (lower is better). A difference between two
variants exceeds noise when |mean_a - mean_b| > t x its standard error sqrt(s_a^2/n_a + s_b^2/n_b):
Welch's t-test at 95% two-sided, t the Student quantile at the Welch-Satterthwaite degrees of freedom
(3 seeds each give ~2-4 degrees of freedom, t ~3-4: a plain 2 x stderr rule would call noise real).
The report states the rule next to the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path

# Student's t 97.5% quantiles by degrees of freedom (any statistics table); a fractional df uses the
# row below it (the larger, conservative t); past 30, the normal 1.96.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t975(df: float) -> float:
    if df >= 30:
        return 2.042 if df < 60 else 1.96
    return T975[max(k for k in T975 if k <= max(1.0, df))]


@dataclass(frozen=True)
class VariantStats:
    variant: str
    seeds: int
    mean: float
    std: float  # sample standard deviation over seeds (0 with one seed)


@dataclass(frozen=True)
class Difference:
    a: str
    b: str
    delta: float  # mean_a - mean_b
    stderr: float
    exceeds_noise: bool


def summarize(rows: list[tuple[str, float]]) -> list[VariantStats]:
    by_variant: dict[str, list[float]] = {}
    for variant, value in rows:
        by_variant.setdefault(variant, []).append(value)
    out = [VariantStats(v, len(xs), statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0)
           for v, xs in by_variant.items()]
    return sorted(out, key=lambda s: s.mean)


def differences(stats: list[VariantStats]) -> list[Difference]:
    out = []
    for a, b in combinations(stats, 2):
        va, vb = a.std ** 2 / a.seeds, b.std ** 2 / b.seeds
        se = math.sqrt(va + vb)
        delta = a.mean - b.mean
        # one seed each: no noise estimate, so no difference is called real
        real = a.seeds > 1 and b.seeds > 1 and se > 0 and abs(delta) > t975(welch_df(va, vb, a.seeds, b.seeds)) * se
        out.append(Difference(a.variant, b.variant, delta, se, real))
    return out


def welch_df(va: float, vb: float, na: int, nb: int) -> float:
    """Welch-Satterthwaite degrees of freedom of a difference of two means (va, vb: squared standard errors)."""
    if va + vb == 0:
        return float(na + nb - 2)
    return (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.experiments.ablation", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", required=True, help="CSV with columns variant, seed and the metric")
    p.add_argument("--metric", default="heldout_bpb")
    p.add_argument("--out", help="JSON file for the table")
    args = p.parse_args(argv)
    try:
        with open(args.runs, newline="") as f:
            reader = csv.DictReader(f)
            if not {"variant", args.metric} <= set(reader.fieldnames or []):
                raise ValueError(f"{args.runs}: needs columns variant and {args.metric}")
            rows = [(r["variant"], float(r[args.metric])) for r in reader if r[args.metric] not in ("", None)]
        if not rows:
            raise ValueError(f"{args.runs}: no run has a {args.metric}")
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stats = summarize(rows)
    report = {"metric": args.metric, "noise_rule": "Welch's t-test, 95% two-sided (|delta| > t(df) x standard error)",
              "variants": [asdict(s) for s in stats], "differences": [asdict(d) for d in differences(stats)]}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
