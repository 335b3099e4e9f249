"""The experiments report: a scaling sweep's fit table, its two figures and the compute-optimal check,
and a data ablation's mean +/- std table with the differences that exceed noise. One self-contained
page (the run report's CSS, figures as data: URIs), sections `scaling`, `check`, `ablation`.

Reads what the experiments DAG leaves in its folder: fit/fit.json, fit/fit.png, fit/isoflops.png,
check/check.json, ablation.json (written by trainer/experiments/*), plus the catalog's rows.
"""

from __future__ import annotations

import base64
import json
import os
from html import escape
from pathlib import Path

from pipeline.report.html import CSS, img, note, table


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _png(path: Path) -> str | None:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else None


def scaling_section(exp_dir: Path, sweep_rows: list[dict]) -> str:
    fit = _read(exp_dir / "fit" / "fit.json")
    if fit is None:
        return note("no fit: the sweep has not reached its fit task (or runs in ablation mode)")
    keys = [("E", "E", 0), ("A", "A", 0), ("B", "B", 0), ("alpha", "alpha", 4), ("beta", "beta", 4),  # 0: 4 significant
            ("runs", "runs", 0), ("rms_log_residual", "RMS log residual", 4)]
    out = table("fit-table", keys, [fit])
    if fit.get("budget"):
        iso = fit.get("isoflop") or {}
        out += table("optimum-table", [("method", "method", -1), ("budget", "FLOP budget", 0),
                                       ("N_opt", "N_opt", 0), ("D_opt", "D_opt", 0)],
                     [{"method": "approach 3 (loss surface)", "budget": fit["budget"], "N_opt": fit["N_opt"],
                       "D_opt": fit["D_opt"]},
                      {"method": "approach 2 (IsoFLOP minima)", "budget": fit["budget"], "N_opt": iso.get("N_opt"),
                       "D_opt": iso.get("D_opt")}])
    out += img(_png(exp_dir / "fit" / "fit.png"), "scaling-fit")
    out += img(_png(exp_dir / "fit" / "isoflops.png"), "isoflops")
    out += table("sweep-runs", [("name", "run", -1), ("params", "N", 0), ("tokens", "D", 0), ("flops", "FLOPs", 0),
                                ("loss", "final held-out loss", 4)], sweep_rows)
    return out


def check_section(exp_dir: Path) -> str:
    check = _read(exp_dir / "check" / "check.json")
    if check is None:
        return note("no check: the compute-optimal run has not finished")
    verdict = "within" if check.get("within_goal") else "outside"
    return note(f"predicted vs actual: {verdict} the {100 * check['goal']:.0f}% goal") + table(
        "check-table", [("budget", "FLOP budget", 0), ("params", "N trained", 0), ("tokens", "D trained", 0),
                        ("predicted_loss", "predicted loss", 4), ("actual_loss", "actual loss", 4),
                        ("relative_error", "relative error", 4)], [check])


def ablation_section(exp_dir: Path) -> str:
    ablation = _read(exp_dir / "ablation.json")
    if ablation is None:
        return note("no ablation in this experiment")
    rows = [{**v, "shown": f"{v['mean']:.4f} ± {v['std']:.4f}"} for v in ablation["variants"]]
    out = table("ablation-table", [("variant", "variant", -1), ("seeds", "seeds", 0),
                                   ("shown", f"{ablation['metric']} mean ± std", -1)], rows)
    diffs = [{**d, "verdict": "exceeds noise" if d["exceeds_noise"] else "within noise"}
             for d in ablation["differences"]]
    out += note(f"A difference is real when {ablation['noise_rule']} (lower {ablation['metric']} is better).")
    return out + table("ablation-differences", [("a", "variant a", -1), ("b", "variant b", -1),
                                                ("delta", "mean a - mean b", 4), ("stderr", "std. error", 4),
                                                ("verdict", "verdict", -1)], diffs)


def render(experiment: str, exp_dir: Path, rows: dict[str, list[dict]]) -> str:
    sections = [("scaling", "Scaling-law fit", scaling_section(exp_dir, rows.get("sweep", []))),
                ("check", "Compute-optimal check", check_section(exp_dir)),
                ("ablation", "Data ablation", ablation_section(exp_dir))]
    body = "".join(f'<section id="{sid}"><h2>{escape(title)}</h2>{html}</section>' for sid, title, html in sections)
    title = f"Experiments: {escape(experiment)}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{CSS}</style></head><body><h1>{title}</h1>{body}</body></html>\n")


def write_report(experiment: str, exp_dir: Path, out: Path, rows: dict[str, list[dict]]) -> Path:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(render(experiment, exp_dir, rows), encoding="utf-8")
    os.replace(tmp, out)
    return out
