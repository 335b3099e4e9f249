"""`python -m pipeline <stage> --input IN --output OUT [--config FILE] [--set k=v]`, and tools.

User errors (unknown stage, missing input, bad config, schema mismatch) print one line and
exit with code 2; a failing stage exits 1 with its traceback and a `failed` catalog row.
"""

from __future__ import annotations

import argparse
import sys

from pipeline import registry
from pipeline.errors import UsageError

TOOLS = {"catalog": "list runs and stage outputs recorded in the catalog; record evaluations",
         "report": "write a self-contained HTML report of one run (funnel, mix, tokens, loss, eval)"}


def _usage() -> str:
    lines = ["usage: python -m pipeline <stage> --input IN --output OUT [--config FILE] [--set k=v ...]",
             "       python -m pipeline catalog {runs,stages,init,finish-run,record-eval} ...",
             "       python -m pipeline report --run RUN [--data-root DIR] [--out FILE]", "", "stages:"]
    names = registry.stage_names()
    width = max([len(n) for n in names + list(TOOLS)] + [8])
    lines += [f"  {n.ljust(width)}  {registry.describe(n)}" for n in names]
    lines += ["", "tools:"] + [f"  {n.ljust(width)}  {d}" for n, d in TOOLS.items()]
    return "\n".join(lines)


def stage_parser(name: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m pipeline {name}", description=registry.describe(name))
    p.add_argument("--input", action="append", default=[], help="input dataset/file (repeatable)")
    p.add_argument("--output", required=True, help="output dataset directory")
    p.add_argument("--config", help="YAML config file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    p.add_argument("--run-id", help="run id (default: the parent folder of --output)")
    p.add_argument("--skip", nargs="?", const="true", default="false", choices=["true", "false"],
                   help="stage toggled off: pass document inputs through unchanged (raw-file stages write none)")
    return p


def run_stage_cli(name: str, argv: list[str]) -> int:
    """Entry used by `python -m pipeline <stage>` and by each job file under spark-submit."""
    from pipeline.config import load_config
    from pipeline.runner import run_stage

    args = stage_parser(name).parse_args(argv)
    overrides = list(args.set) + ([f"run.run_id={args.run_id}"] if args.run_id else [])
    cfg = load_config(args.config, overrides)
    inputs = [p for item in args.input for p in item.split(",") if p]
    summary = run_stage(name, inputs, args.output.rstrip("/"), cfg, skip=args.skip == "true")
    print(summary.line(), flush=True)
    return 0


def catalog_cli(argv: list[str]) -> int:
    from pipeline.catalog import Catalog, format_table
    from pipeline.config import load_config

    p = argparse.ArgumentParser(prog="python -m pipeline catalog")
    p.add_argument("command", choices=["runs", "stages", "init", "finish-run", "record-eval"])
    p.add_argument("--run", help="run id (stages, finish-run, record-eval)")
    p.add_argument("--report", help="record-eval: the evaluation's report.json")
    p.add_argument("--data-root", help="data root (its catalog.sqlite is the default catalog)")
    p.add_argument("--status", default="succeeded", help="finish-run status")
    p.add_argument("--config")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--url", help="catalog URL (overrides config)")
    args = p.parse_args(argv)
    cfg = load_config(args.config, args.set + ([f"run.data_root={args.data_root}"] if args.data_root else []))
    catalog = Catalog(args.url or cfg.catalog_url())
    catalog.init()
    if args.command == "init":
        print(f"catalog ready: {catalog.url}")
    elif args.command == "runs":
        print(format_table(*catalog.query("runs")))
    elif args.command == "stages":
        if not args.run:
            raise UsageError("catalog stages needs --run RUN")
        print(format_table(*catalog.query("stages", {"run_id": args.run})))
    elif args.command == "finish-run":
        if not args.run:
            raise UsageError("catalog finish-run needs --run RUN")
        catalog.finish_run(args.run, args.status)
    elif args.command == "record-eval":
        from pipeline.report.evaluation import record_evaluation

        if not (args.run and args.report):
            raise UsageError("catalog record-eval needs --run RUN --report REPORT_JSON")
        n = record_evaluation(catalog, args.run, args.report)
        print(f"recorded {n} evaluated variant(s) of run {args.run} from {args.report}")
    return 0


def stage_main(name: str, argv: list[str] | None = None) -> int:
    """`if __name__ == "__main__": sys.exit(stage_main(...))` in each job file (spark-submit)."""
    try:
        return run_stage_cli(name, sys.argv[1:] if argv is None else argv)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command == "catalog":
            return catalog_cli(rest)
        if command == "report":
            from pipeline.report.cli import report_cli

            return report_cli(rest)
        registry.job_path(command)  # unknown stage -> UsageError
        return run_stage_cli(command, rest)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
