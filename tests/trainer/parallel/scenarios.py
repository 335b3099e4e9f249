"""Scenarios that share one spawned group of ranks: a launch costs more than a tiny model's steps.

`run(rank, world, names, out_dir)` runs each named scenario on every rank, records "ok" or the
traceback per scenario and rank (out_dir/rank<N>.json), and goes on to the next; the test module asks
for its scenario's outcome. A collective left waiting by a failed peer times out (spawn.py's gloo
timeout) instead of hanging the suite.
"""

import json
import traceback
from functools import partial
from pathlib import Path

import torch.distributed as dist

from tests.trainer.parallel import ranks_ckpt, ranks_ep, ranks_pp, ranks_ring, ranks_seq, ranks_tp

SCENARIOS = {
    "ring_attention_2": partial(ranks_ring.ring_matches_full_attention, cases=[(4, 2, 32), (4, 4, 16), (8, 1, 12)]),
    "ring_attention_4": partial(ranks_ring.ring_matches_full_attention, cases=[(4, 2, 32)]),
    "tp": partial(ranks_tp.tp_matches_single_rank, steps=5),
    "sp_ulysses": partial(ranks_seq.split_matches_single_rank, kind="ulysses", steps=5),
    "cp_ring": partial(ranks_seq.split_matches_single_rank, kind="ring", steps=5),
    "cp_ring_4": partial(ranks_seq.split_matches_single_rank, kind="ring", steps=3),
    "tp_x_cp": partial(ranks_seq.tp_by_cp_matches_single_rank, steps=3),
    "pp": partial(ranks_pp.pp_matches_single_rank, steps=5, out_file=""),
    "ep": partial(ranks_ep.ep_matches_single_rank, steps=5),
}


def run(rank: int, world: int, names: list[str], out_dir: str) -> None:
    outcome = {}
    for name in names:
        try:
            if name == "checkpoint":
                ranks_ckpt.tp_saves_cp_resumes_and_exports(rank, world, str(Path(out_dir) / "checkpoint"))
            else:
                SCENARIOS[name](rank, world)
            outcome[name] = "ok"
        except Exception:
            outcome[name] = traceback.format_exc()
        dist.barrier()
    (Path(out_dir) / f"rank{rank}.json").write_text(json.dumps(outcome))


def outcomes(out_dir: Path, world: int) -> dict[str, list[str]]:
    """Per scenario, the failures of every rank ([] when all ranks passed)."""
    found: dict[str, list[str]] = {}
    for rank in range(world):
        for name, result in json.loads((out_dir / f"rank{rank}.json").read_text()).items():
            found.setdefault(name, [])
            if result != "ok":
                found[name].append(f"rank {rank}: {result}")
    return found
