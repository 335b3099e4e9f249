"""`python -m pipeline report --run RUN [--data-root DIR] [--out FILE] [--training-dir DIR] [--eval-report FILE]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.errors import UsageError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline report",
                                description="Write a self-contained HTML report of one run.")
    p.add_argument("--run", required=True, help="run id (as in `python -m pipeline catalog runs`)")
    p.add_argument("--data-root", help="data root holding the run (default: config run.data_root)")
    p.add_argument("--out", help="HTML file (default: <data_root>/<run>/report.html)")
    p.add_argument("--training-dir", help="training run directory with metrics.jsonl "
                                          "(default: <data_root>/<run>/pretrain, or its newest subfolder)")
    p.add_argument("--eval-report", help="evaluation report.json (default: the catalog's evaluations table)")
    p.add_argument("--config", help="YAML config file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    p.add_argument("--url", help="catalog URL (overrides config)")
    return p


def report_cli(argv: list[str]) -> int:
    from pipeline.catalog import Catalog
    from pipeline.config import load_config
    from pipeline.report.build import build_report

    args = parser().parse_args(argv)
    overrides = list(args.set) + ([f"run.data_root={args.data_root}"] if args.data_root else [])
    cfg = load_config(args.config, overrides)
    data_root = cfg.run.data_root
    catalog = Catalog(args.url or cfg.catalog_url())
    catalog.init()
    _, runs = catalog.query("SELECT run_id FROM runs WHERE run_id = :run_id", {"run_id": args.run})
    _, stages = catalog.query("stages", {"run_id": args.run})
    if not runs and not stages:
        raise UsageError(f"run '{args.run}' is not in the catalog {catalog.url}")
    if args.out:
        out = Path(args.out)
    elif "://" in data_root:
        raise UsageError(f"data root {data_root} is not a local path: pass --out FILE")
    else:
        out = Path(data_root) / args.run / "report.html"
    path = build_report(catalog, args.run, data_root, out, training_dir=args.training_dir,
                        eval_report=args.eval_report)
    print(f"report: {path}", flush=True)
    return 0
