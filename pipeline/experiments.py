"""The experiments DAG's catalog side: record a trained model, export a sweep's or ablation's runs, and
write the experiments report.

    python -m pipeline.experiments record --experiment EXP --name NAME --kind sweep|check|ablation
        [--params N --tokens D] [--metrics RUN/metrics.jsonl] [--check check.json] [--heldout heldout.json]
        [--data-run R --variant V --seed S --run-dir DIR] [--data-root DIR | --url URL]
    python -m pipeline.experiments runs-csv --experiment EXP --kind sweep --out runs.csv
    python -m pipeline.experiments report --experiment EXP --dir EXPDIR --out report.html

The files it reads are the trainer's outputs (metrics.jsonl, check.json, heldout.json, fit.json,
ablation.json); pipeline/ never imports trainer/. Bad input prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from pipeline.errors import UsageError

CSV_COLUMNS = {"sweep": ("params", "tokens", "loss", "flops", "name"),
               "check": ("params", "tokens", "loss", "predicted_loss", "name"),
               "ablation": ("variant", "seed", "heldout_bpb", "loss", "data_run_id", "name")}


def final_val_loss(metrics_path: str | Path) -> float | None:
    path = Path(metrics_path)
    if not path.is_file():
        raise UsageError(f"{path}: no metrics file (did the run train?)")
    value = None
    for line in path.read_text().splitlines():
        if line.strip():
            value = json.loads(line).get("val_loss", value)
    return value


def _json(path: str | None) -> dict:
    if not path:
        return {}
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    return json.loads(Path(path).read_text())


def experiment_row(args: argparse.Namespace) -> dict:
    row = {"experiment_id": args.experiment, "name": args.name, "kind": args.kind, "data_run_id": args.data_run,
           "variant": args.variant, "seed": args.seed, "params": args.params, "tokens": args.tokens,
           "run_dir": args.run_dir}
    if args.params and args.tokens:
        row["flops"] = 6.0 * args.params * args.tokens
    if args.metrics:
        row["loss"] = final_val_loss(args.metrics)
    check = _json(args.check)
    if check:
        row.update(params=check["params"], tokens=check["tokens"], flops=check["flops"],
                   loss=check["actual_loss"], predicted_loss=check["predicted_loss"])
    heldout = _json(args.heldout)
    if heldout:
        row["heldout_bpb"] = heldout["bits_per_byte"]
    return row


def catalog_for(args: argparse.Namespace):
    from pipeline.catalog import Catalog
    from pipeline.config import load_config

    cfg = load_config(None, [f"run.data_root={args.data_root}"] if args.data_root else [])
    catalog = Catalog(args.url or cfg.catalog_url())
    catalog.init()
    return catalog


def runs(catalog, experiment: str, kind: str) -> list[dict]:
    cols = ", ".join(dict.fromkeys(CSV_COLUMNS[kind]))
    names, rows = catalog.query(f"SELECT {cols} FROM experiments WHERE experiment_id = :e AND kind = :k "
                                "ORDER BY name", {"e": experiment, "k": kind})
    return [dict(zip(names, r, strict=True)) for r in rows]


def write_csv(rows: list[dict], columns: tuple[str, ...], out: str) -> int:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline.experiments", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["record", "runs-csv", "report"])
    p.add_argument("--experiment", required=True, help="experiment id (the experiments DAG run)")
    p.add_argument("--name", help="record: the run's name within the experiment")
    p.add_argument("--kind", choices=sorted(CSV_COLUMNS), default="sweep")
    p.add_argument("--params", type=int, help="non-embedding parameters N")
    p.add_argument("--tokens", type=int, help="training tokens D")
    p.add_argument("--metrics", help="the run's metrics.jsonl: its last val_loss is the loss")
    p.add_argument("--check", help="check.json of trainer.experiments.check")
    p.add_argument("--heldout", help="heldout.json of trainer.experiments.heldout")
    p.add_argument("--data-run", help="data run the model trained on")
    p.add_argument("--variant", help="ablation: the data variant's name")
    p.add_argument("--seed", type=int)
    p.add_argument("--run-dir")
    p.add_argument("--out", help="runs-csv: the CSV; report: the HTML file")
    p.add_argument("--dir", help="report: the experiment's folder (fit/, check/, ablation.json)")
    p.add_argument("--data-root", help="data root (its catalog.sqlite is the default catalog)")
    p.add_argument("--url", help="catalog URL (overrides config)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        catalog = catalog_for(args)
        if args.command == "record":
            if not args.name:
                raise UsageError("record needs --name")
            row = experiment_row(args)
            catalog.record_experiment(row)
            print(f"recorded {args.kind} run {args.name} of {args.experiment}: loss {row.get('loss')}")
        elif args.command == "runs-csv":
            if not args.out:
                raise UsageError("runs-csv needs --out FILE")
            n = write_csv(runs(catalog, args.experiment, args.kind), CSV_COLUMNS[args.kind], args.out)
            print(f"{n} {args.kind} run(s) of {args.experiment} -> {args.out}")
        else:
            from pipeline.report.experiments import write_report

            if not (args.dir and args.out):
                raise UsageError("report needs --dir EXPDIR --out FILE")
            path = write_report(args.experiment, Path(args.dir), Path(args.out),
                                {kind: runs(catalog, args.experiment, kind) for kind in CSV_COLUMNS})
            print(f"report: {path}")
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
