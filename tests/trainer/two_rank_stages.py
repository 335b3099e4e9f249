"""Run under `torchrun --nproc_per_node 2`: ZeRO 1/2/3 each train, then resume from their mid-run
checkpoint, all in one launch (a launch costs more than the training). Rank 0 writes results.json:
{stage: {"full": {step: loss}, "resumed": {step: loss}, "val": [...]}}.
"""

import argparse
import json
import sys
from pathlib import Path

import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo, for `trainer` and `tests`

from tests.trainer.tiny_runs import losses, rewind, tiny_config  # noqa: E402
from trainer.train import distributed  # noqa: E402
from trainer.train.pretrain import train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--root", required=True)
    args = parser.parse_args()
    root = Path(args.root)
    ctx = distributed.setup()
    results = {}
    for stage in (1, 2, 3):
        common = [f"zero_stage={stage}", "steps=12", "save_every=6", "eval_every=6"]
        full = train(tiny_config(Path(args.data), root / f"z{stage}", *common))
        if ctx.is_main:
            rewind(root / f"z{stage}", root / f"z{stage}-resumed", 6)
        dist.barrier()
        resumed = train(tiny_config(Path(args.data), root / f"z{stage}-resumed", *common), resume=True)
        results[stage] = {"full": losses(full), "resumed": losses(resumed),
                          "val": [r["val_loss"] for r in full if "val_loss" in r]}
    if ctx.is_main:
        (root / "results.json").write_text(json.dumps(results))
    distributed.teardown(ctx)


if __name__ == "__main__":
    main()
