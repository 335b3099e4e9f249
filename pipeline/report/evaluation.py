"""The evaluation contract: `<eval_dir>/report.json` written by trainer/eval/evaluate.py, one row per variant.

{"metric": "token_perplexity", "model": path, "tokens_dir": path,
 "variants": [{"variant": "fp32"|"int8"|"int4-rtn"|"int4-gptq", "token_perplexity": float,
               "exact_match": float|null, "exact_match_items": int, "decode_tokens_per_s": float,
               "peak_memory_bytes": int|null, "model_bytes": int}, ...]}
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.errors import UsageError

VARIANT_ORDER = ("fp32", "bf16", "int8", "int4-rtn", "int4-gptq")
# Below this many items an exact-match share is noise (its standard error at p=0.5 is above 0.11):
# the report says so beside the number instead of showing a bare share such as 0.000.
MIN_EXACT_MATCH_ITEMS = 20


def exact_match_note(items: int | None) -> str:
    if not items:
        return "no held-out items: no exact match"
    if items < MIN_EXACT_MATCH_ITEMS:
        return f"warning: only {items} held-out items (< {MIN_EXACT_MATCH_ITEMS}), too few to compare"
    return ""


@dataclass
class VariantResult:
    model: str
    variant: str
    metric: str
    token_perplexity: float | None
    exact_match: float | None
    exact_match_items: int | None
    decode_tokens_per_s: float | None
    peak_memory_bytes: int | None
    model_bytes: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def _number(value, kind: type, where: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{where}: expected a number or null, got {value!r}")
    if kind is int:
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None  # NaN/inf perplexity of a broken model: no value


def parse_report(report: dict, where: str = "report.json") -> tuple[dict, list[VariantResult]]:
    """(header, variants) of an evaluation report; refuses a file that is not the contract's shape."""
    if not isinstance(report, dict) or not isinstance(report.get("variants"), list):
        raise UsageError(f"{where}: not an evaluation report (no 'variants' list)")
    metric = str(report.get("metric") or "token_perplexity")
    model = str(report.get("model") or "")
    header = {"metric": metric, "model": model, "tokens_dir": report.get("tokens_dir")}
    out = []
    for i, v in enumerate(report["variants"]):
        at = f"{where}: variants[{i}]"
        if not isinstance(v, dict) or not v.get("variant"):
            raise UsageError(f"{at}: needs a 'variant' name")
        out.append(VariantResult(
            model=model, variant=str(v["variant"]), metric=metric,
            token_perplexity=_number(v.get("token_perplexity"), float, at),
            exact_match=_number(v.get("exact_match"), float, at),
            exact_match_items=_number(v.get("exact_match_items"), int, at),
            decode_tokens_per_s=_number(v.get("decode_tokens_per_s"), float, at),
            peak_memory_bytes=_number(v.get("peak_memory_bytes"), int, at),
            model_bytes=_number(v.get("model_bytes"), int, at)))
    order = {name: i for i, name in enumerate(VARIANT_ORDER)}
    out.sort(key=lambda r: (order.get(r.variant, len(order)), r.variant))
    return header, out


def read_report(path: str | Path) -> tuple[dict, list[VariantResult]]:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"evaluation report not found: {path}")
    try:
        report = json.loads(path.read_text())
    except ValueError as e:
        raise UsageError(f"{path}: not JSON ({e})") from e
    return parse_report(report, str(path))


def record_evaluation(catalog, run_id: str, report_path: str | Path) -> int:
    """Replace the rows of this (run, model) in the catalog's `evaluations` table; returns the count."""
    from pipeline.catalog import now

    header, variants = read_report(report_path)
    stamp = now()  # one time for the whole report: the query orders models by it
    with catalog.connect() as conn:
        catalog.execute(conn, "DELETE FROM evaluations WHERE run_id = :run_id AND model = :model",
                        {"run_id": run_id, "model": header["model"]})
        for v in variants:
            catalog.execute(conn, """
                INSERT INTO evaluations (run_id, model, variant, metric, token_perplexity, exact_match,
                    exact_match_items, decode_tokens_per_s, peak_memory_bytes, model_bytes, tokens_dir,
                    report_path, recorded_at)
                VALUES (:run_id, :model, :variant, :metric, :token_perplexity, :exact_match,
                    :exact_match_items, :decode_tokens_per_s, :peak_memory_bytes, :model_bytes, :tokens_dir,
                    :report_path, :recorded_at)
            """, {**v.as_dict(), "run_id": run_id, "tokens_dir": header["tokens_dir"],
                  "report_path": str(Path(report_path).resolve()), "recorded_at": stamp})
    return len(variants)
