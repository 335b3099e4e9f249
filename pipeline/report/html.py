"""One self-contained HTML page per run: inline CSS, plots as data: URIs, no scripts, no external links.

Every section has a stable id (funnel, quality, language, mix, dedup, synth, tokens, training,
evaluation) and its numbers in a table; numeric cells carry the exact value in `data-value`.
"""

from __future__ import annotations

from html import escape

from pipeline.report import figures
from pipeline.report.evaluation import exact_match_note
from pipeline.report.gather import RunData, language_counts

SECTIONS = [("funnel", "Document funnel"), ("quality", "Quality scores"), ("language", "Languages"),
            ("mix", "Domain mix"), ("dedup", "Deduplication clusters"), ("synth", "Synthetic data"),
            ("tokens", "Token counts"), ("training", "Training loss"), ("evaluation", "Evaluation")]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; } .note { color: #8a5a00; background: #fff7e0; padding: 6px 10px; }
.meta { color: #666; font-size: 13px; } nav a { margin-right: 10px; font-size: 13px; }
img { display: block; margin: 8px 0; }
"""


def _cell(value, digits: int = 0) -> str:
    if value is None:
        return "<td>&ndash;</td>"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"<td>{escape(str(value))}</td>"
    if digits == 0 and float(value).is_integer():
        shown = f"{value:,.0f}"
    elif digits == 0:
        shown = f"{value:,.4g}"
    else:
        shown = f"{value:,.{digits}f}"
    return f'<td class="num" data-value="{value!r}">{shown}</td>'


def table(table_id: str, columns: list[tuple[str, str, int]], rows: list[dict]) -> str:
    """columns: (key, header, digits); digits < 0 marks a text column."""
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in columns)
    body = []
    for r in rows:
        cells = "".join(f"<td>{escape(str(r.get(k, '')))}</td>" if d < 0 else _cell(r.get(k), d)
                        for k, _, d in columns)
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def img(uri: str | None, alt: str) -> str:
    if not uri:
        return ""
    w, h = figures.png_size(uri)
    return f'<img id="fig-{alt}" alt="{escape(alt)}" width="{w}" height="{h}" src="{uri}">'


def note(text: str | None) -> str:
    return f'<p class="note">{escape(text)}</p>' if text else ""


def render(data: RunData) -> str:
    parts = {sid: "" for sid, _ in SECTIONS}
    parts["funnel"] = _funnel(data)
    parts["quality"] = _quality(data)
    parts["language"] = _language(data)
    parts["mix"] = _mix(data)
    parts["dedup"] = _dedup(data)
    parts["synth"] = _synth(data)
    parts["tokens"] = _tokens(data)
    parts["training"] = _training(data)
    parts["evaluation"] = _evaluation(data)
    run = data.run or {}
    meta = " · ".join(f"{k}: {escape(str(run[k]))}" for k in ("status", "started_at", "finished_at", "data_root")
                      if run.get(k))
    nav = "".join(f'<a href="#{sid}">{escape(title)}</a>' for sid, title in SECTIONS)
    sections = "".join(f'<section id="{sid}"><h2>{escape(title)}</h2>{note(data.notes.get(sid))}{parts[sid]}'
                       f"</section>" for sid, title in SECTIONS)
    title = f"Run report: {escape(data.run_id)}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{CSS}</style></head><body><h1>{title}</h1><p class=\"meta\">{meta}</p>"
            f"<nav>{nav}</nav>{sections}</body></html>\n")


def _funnel(data: RunData) -> str:
    reasons: dict[str, list[str]] = {}
    for r in data.drop_reasons:
        if r["documents"]:
            reasons.setdefault(r["stage"], []).append(f"{r['reason']}: {r['documents']:,.0f}")
    rows = [{**r, "reasons": "; ".join(reasons.get(r["stage"], []))} for r in data.funnel]
    cols = [("stage", "stage", -1), ("status", "status", -1), ("rows_in", "rows in", 0),
            ("rows_out", "rows out", 0), ("dropped", "dropped", 0), ("reasons", "drop / reject reasons", -1),
            ("seconds", "seconds", 1)]
    reason_cols = [("stage", "stage", -1), ("kind", "kind", -1), ("reason", "reason", -1),
                   ("documents", "documents", 0)]
    detail = (f"<h3>Drop and reject reasons</h3>{table('table-drop-reasons', reason_cols, data.drop_reasons)}"
              if data.drop_reasons else "")
    return img(figures.funnel(data.funnel), "funnel") + table("table-funnel", cols, rows) + detail


def _sample_rows(samples: dict) -> list[dict]:
    return [{"dataset": label, "stage": s.stage, "rows": s.rows, "sampled": s.sampled} for label, s in samples.items()]


SAMPLE_COLS = [("dataset", "dataset", -1), ("stage", "stage", -1), ("rows", "rows", 0), ("sampled", "sampled", 0)]


def _quality(data: RunData) -> str:
    rows = []
    for r, s in zip(_sample_rows(data.quality), data.quality.values(), strict=True):
        vals = sorted(v for v in s.values if v is not None)
        if vals:
            r.update(mean=sum(vals) / len(vals), median=vals[len(vals) // 2])
        rows.append(r)
    cols = SAMPLE_COLS + [("mean", "mean score", 3), ("median", "median score", 3)]
    return img(figures.quality_histogram(data.quality), "quality") + (table("table-quality", cols, rows)
                                                                       if rows else "")


def _language(data: RunData) -> str:
    counts = {label: language_counts(s) for label, s in data.languages.items()}
    rows = [{"dataset": label, "lang": lang, "documents": n, "share": n / max(sum(c.values()), 1)}
            for label, c in counts.items() for lang, n in c.most_common()]
    cols = [("dataset", "dataset", -1), ("lang", "language", -1), ("documents", "documents (sample)", 0),
            ("share", "share", 3)]
    return (img(figures.language_bars(counts), "language") + table("table-language-sources", SAMPLE_COLS,
                                                                     _sample_rows(data.languages))
            + table("table-language", cols, rows) if rows else "")


def _mix(data: RunData) -> str:
    if not data.mix:
        return ""
    cols = [("mix_group", "group", -1), ("tokens_in", "tokens in", 0), ("tokens_out", "tokens out", 0),
            ("share_before", "share before", 3), ("target_share", "target share", 3),
            ("share_after", "share after", 3), ("planned_epochs", "planned epochs", 2),
            ("effective_epochs", "effective epochs", 2), ("cap_bound", "capped", 0)]
    t = data.mix_totals
    summary = (f'<p class="meta">tokens in {t.get("tokens_in", 0):,.0f} &rarr; out {t.get("tokens_out", 0):,.0f}'
               f' (estimated); epoch cap {t.get("max_epochs", 0):g}</p>') if t else ""
    return img(figures.mix_shares(data.mix, t.get("max_epochs")), "mix") + summary + table("table-mix", cols, data.mix)


def _dedup(data: RunData) -> str:
    if not data.clusters:
        return ""
    cols = [("stage", "stage", -1), ("size_bin", "cluster size", -1), ("clusters", "clusters", 0)]
    return img(figures.cluster_sizes(data.clusters), "dedup") + table("table-dedup", cols, data.clusters)


def _synth(data: RunData) -> str:
    if not data.synth:
        return ""
    counters = sorted({c for v in data.synth.values() for c in v} - {"kept"})
    rows = [{"generator": g, **v} for g, v in sorted(data.synth.items())]
    cols = [("generator", "generator", -1), ("kept", "kept", 0)] + [(c, c, 0) for c in counters]
    return img(figures.synth_counts(data.synth), "synth") + table("table-synth", cols, rows)


def _tokens(data: RunData) -> str:
    if not data.tokens:
        return ""
    totals = [{"name": k, "value": v} for k, v in sorted(data.token_totals.items())]
    cols = [("split", "split", -1), ("domain", "domain", -1), ("tokens", "tokens", 0)]
    return (img(figures.token_bars(data.tokens), "tokens") + table("table-tokens", cols, data.tokens)
            + table("table-token-totals", [("name", "total", -1), ("value", "value", 0)], totals))


def _training(data: RunData) -> str:
    if not data.training:
        return ""
    losses = [r for r in data.training if r.get("loss") is not None]
    vals = [r for r in data.training if r.get("val_loss") is not None]
    last = losses[-1] if losses else {}
    rows = [{"metric": "steps", "value": last.get("step")}, {"metric": "final train loss", "value": last.get("loss")},
            {"metric": "final val loss", "value": vals[-1]["val_loss"] if vals else None},
            {"metric": "tokens seen", "value": last.get("tokens")},
            {"metric": "last tokens/s", "value": last.get("tokens_per_s")}]
    where = f'<p class="meta">from {escape(str(data.training_dir))}/metrics.jsonl</p>'
    return img(figures.loss_curve(data.training), "training") + where + table(
        "table-training", [("metric", "metric", -1), ("value", "value", 0)], rows)


def _evaluation(data: RunData) -> str:
    if not data.evaluations:
        return ""
    cols = [("model", "model", -1), ("variant", "variant", -1), ("token_perplexity", "token perplexity", 3),
            ("exact_match", "exact match", 3), ("exact_match_items", "EM items", 0),
            ("em_note", "EM note", -1),
            ("decode_tokens_per_s", "decode tokens/s", 1), ("peak_memory_bytes", "peak memory (bytes)", 0),
            ("model_bytes", "model bytes", 0)]
    rows = [{**r, "em_note": exact_match_note(r.get("exact_match_items"))} for r in data.evaluations]
    return (f'<p class="meta">from {escape(str(data.eval_source))}; perplexity is per token of the '
            f"run's tokenizer (not per word); exact match is on held-out items made only from val "
            f"documents</p>" + table("table-evaluation", cols, rows))
