"""Sizing a scaling sweep: model shapes by non-embedding parameters, IsoFLOP runs with C = 6ND, and the
command line of each run. Pure Python (no torch): the DAG's plan task and the check task import it.

A sweep is Hoffmann et al.'s IsoFLOP design (arXiv:2203.15556, approach 2): for each FLOP budget C and
each model size N the run trains on D = C / (6N) tokens, so one grid serves approach 2 (a parabola per
budget) and approach 3 (the surface through every run). N counts non-embedding parameters (Kaplan et al.
2020: the token table and the tied output head are left out), the FLOPs are 6ND.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import asdict, dataclass

HEAD_DIM = 32  # every shape keeps 32-dim heads, so width and depth alone set N
MULTIPLE_OF = 64  # ModelConfig's default: ffn_dim is 8/3 dim rounded up to it


@dataclass(frozen=True)
class Shape:
    dim: int
    n_layers: int

    @property
    def n_heads(self) -> int:
        return max(1, self.dim // HEAD_DIM)

    @property
    def ffn_dim(self) -> int:
        return MULTIPLE_OF * math.ceil(int(2 * (4 * self.dim) / 3) / MULTIPLE_OF)

    @property
    def params(self) -> int:
        """Non-embedding parameters of trainer/model/transformer.py's dense block stack (multi-head
        attention, SwiGLU MLP, two RMSNorms per block, the final RMSNorm)."""
        attention = 4 * self.dim * self.dim
        mlp = 3 * self.dim * self.ffn_dim
        return self.n_layers * (attention + mlp + 2 * self.dim) + self.dim

    def model_sets(self, seq_len: int) -> list[str]:
        return [f"model.dim={self.dim}", f"model.n_layers={self.n_layers}", f"model.n_heads={self.n_heads}",
                f"model.n_kv_heads={self.n_heads}", f"model.max_seq_len={seq_len}"]


# The CPU ladder: ~0.1M to ~19M non-embedding parameters, depth growing with width as in Kaplan et al.'s
# aspect ratios; GPU presets scale the same ladder up (SHAPES_GPU).
SHAPES_CPU = (Shape(64, 2), Shape(96, 3), Shape(128, 4), Shape(192, 5), Shape(256, 6), Shape(384, 8),
              Shape(512, 6))
SHAPES_GPU = (Shape(256, 6), Shape(384, 8), Shape(512, 8), Shape(640, 10), Shape(768, 12), Shape(1024, 16))
# Toy: 55k to 0.85M, for a sweep that finishes in half an hour on 2 shared CPU cores (the measured one in
# trainer/README.md); compute-optimal sizes at 1e11-1e12 FLOPs lie here, not on the cpu ladder.
SHAPES_TOY = (Shape(48, 2), Shape(64, 2), Shape(64, 4), Shape(96, 4), Shape(128, 4))
LADDERS = {"cpu": SHAPES_CPU, "gpu": SHAPES_GPU, "toy": SHAPES_TOY}


def nearest_shape(n: float, ladder: tuple[Shape, ...] = SHAPES_CPU) -> Shape:
    """The shape whose N is nearest `n` in log space; between ladder rungs, a width in steps of one head
    at a rung's depth (the check trains a predicted N the grid never held). Never outside the ladder's
    range: a fit is not trusted beyond the sizes it saw."""
    low, high = ladder[0].params, ladder[-1].params
    candidates = list(ladder) + [c for s in ladder for d in range(HEAD_DIM, 2049, HEAD_DIM)
                                 if low <= (c := Shape(d, s.n_layers)).params <= high]
    return min(candidates, key=lambda s: (abs(math.log(s.params / n)), s.n_layers))


@dataclass(frozen=True)
class RunSpec:
    name: str
    dim: int
    n_layers: int
    params: int
    steps: int
    tokens: int
    flops: float
    budget: float  # the FLOP budget the run belongs to (flops differ from it by the rounding of steps)
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)


def run_name(shape: Shape, budget: float, seed: int = 0) -> str:
    return f"d{shape.dim}-l{shape.n_layers}-c{budget:.0e}".replace("+", "") + (f"-s{seed}" if seed else "")


def plan_sweep(shapes: list[Shape], budgets: list[float], tokens_per_step: int, min_steps: int = 10,
               seed: int = 0) -> list[RunSpec]:
    """One run per (budget, shape) with D = C/(6N) rounded to whole steps; a run under `min_steps` steps is
    left out (a model that large for that budget only warms up; the IsoFLOP profile stays on the grid)."""
    runs = []
    for budget in sorted(budgets):
        for shape in shapes:
            steps = round(budget / (6.0 * shape.params) / tokens_per_step)
            if steps < min_steps:
                continue
            tokens = steps * tokens_per_step
            runs.append(RunSpec(run_name(shape, budget, seed), shape.dim, shape.n_layers, shape.params, steps,
                                tokens, 6.0 * shape.params * tokens, budget, seed))
    return runs


def parse_budgets(text: str) -> list[float]:
    """'1e11,3e11,1e12' -> floats; refuses an empty or non-positive list."""
    values = [float(x) for x in re.split(r"[,\s]+", text.strip()) if x]
    if not values or min(values) <= 0:
        raise ValueError(f"FLOP budgets must be positive numbers, got {text!r}")
    return values


def peak_lr(dim: int) -> float:
    """3e-3 (the tiny preset's, trainer/train/zero.py) at width 128, falling as 1/sqrt(width) above it: a
    wider model needs a smaller step (muP, Yang et al. 2022, scales Adam's LR as 1/width; the square root is
    the gentler rule that kept every width of the ladder stable here)."""
    return 3e-3 * min(1.0, math.sqrt(128 / dim))


@dataclass(frozen=True)
class TrainSettings:
    tokens_dir: str
    seq_len: int = 64
    micro_batch_size: int = 16
    eval_batches: int = 16

    @property
    def tokens_per_step(self) -> int:
        return self.seq_len * self.micro_batch_size


def train_command(shape: Shape, steps: int, out_dir: str, settings: TrainSettings, seed: int = 0) -> str:
    """`python -m trainer train` of one run: the schedule spans the run (Hoffmann et al.: a cosine cycle
    matched to the tokens), 10% warmup, one held-out evaluation at the end, one checkpoint."""
    args = ["python", "-m", "trainer", "train", "--data", settings.tokens_dir, "--out", out_dir,
            "--preset", "tiny", "--steps", str(steps)]
    sets = shape.model_sets(settings.seq_len) + [
        f"seq_len={settings.seq_len}", f"micro_batch_size={settings.micro_batch_size}", "zero_stage=0",
        f"lr={peak_lr(shape.dim)}", f"warmup_steps={max(1, steps // 10)}", f"eval_every={steps}",
        f"eval_batches={settings.eval_batches}", "save_every=0", f"log_every={max(1, steps // 5)}",
        f"seed={1337 + seed}"]
    for item in sets:
        args += ["--set", item]
    return shlex.join(args + ["--resume"])  # a retried task continues from its checkpoint
