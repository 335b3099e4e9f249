"""LSH banding: choose bands x rows for a Jaccard threshold by weighted false positive/negative area.

A pair with Jaccard s collides in at least one of b bands of r rows with probability
P(s) = 1 - (1 - s^r)^b. The false positive area is the integral of P below the threshold, the
false negative area the integral of 1 - P above it; datasketch (`MinHashLSH._optimal_param`) and
text-dedup minimise fp_weight * FP + fn_weight * FN over b * r <= num_perm with equal weights.
With exact-Jaccard verification of candidates, false positives only cost compute while false
negatives are lost duplicates, so this project weighs false negatives more (see DedupMinhashConfig).
"""

from __future__ import annotations

import numpy as np

_GRID = 2001  # trapezoid points on [0, 1]: area error < 1e-6, far below the differences compared


def collision_probability(s: np.ndarray | float, bands: int, rows: int) -> np.ndarray:
    return 1.0 - (1.0 - np.power(s, rows)) ** bands


def error_areas(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    """(false positive area below threshold, false negative area above it)."""
    lo = np.linspace(0.0, threshold, _GRID)
    hi = np.linspace(threshold, 1.0, _GRID)
    fp = float(np.trapezoid(collision_probability(lo, bands, rows), lo))
    fn = float(np.trapezoid(1.0 - collision_probability(hi, bands, rows), hi))
    return fp, fn


def optimal_bands_rows(threshold: float, num_perm: int, fp_weight: float = 0.5,
                       fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight * FP + fn_weight * FN with bands * rows <= num_perm."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    best, best_err = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp, fn = error_areas(threshold, bands, rows)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err - 1e-15:
                best, best_err = (bands, rows), err
    return best
