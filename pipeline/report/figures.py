"""The report's plots: matplotlib (Agg, no display) to base64 PNG data URIs, one function per section.

PNG at 100 dpi keeps each figure's pixels exact in a browser at scale 1, so a screenshot can find
a figure by colour: the funnel's "out" bars are FUNNEL_COLOR, a colour no other figure uses.
"""

from __future__ import annotations

import base64
import io
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after selecting the backend)

FUNNEL_COLOR = "#e4007c"  # (228, 0, 124); only the funnel's bars use it
FUNNEL_IN_COLOR = "#b0bec5"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f"]
DPI = 100


def to_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def png_size(uri: str) -> tuple[int, int]:
    """(width, height) of a PNG data URI, from its IHDR chunk: the page shows it unscaled."""
    head = base64.b64decode(uri.split(",", 1)[1][:48])
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def funnel(rows: list[dict]) -> str | None:
    """Documents in and out of every stage, top to bottom in execution order."""
    rows = [r for r in rows if r["rows_out"] is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(rows) + 1.4))
    y = list(range(len(rows)))[::-1]
    ins = [r["rows_in"] or 0 for r in rows]
    outs = [r["rows_out"] for r in rows]
    ax.barh([v + 0.2 for v in y], ins, height=0.4, color=FUNNEL_IN_COLOR, label="rows in", antialiased=False)
    ax.barh([v - 0.2 for v in y], outs, height=0.4, color=FUNNEL_COLOR, label="rows out", antialiased=False)
    top = max(ins + outs) or 1
    for yi, r in zip(y, rows, strict=True):
        text = _fmt(r["rows_out"])
        if r.get("dropped"):  # negative: the stage adds rows (mix repeats documents)
            text += f"  ({'-' if r['dropped'] > 0 else '+'}{_fmt(abs(r['dropped']))})"
        if r["status"] == "skipped":
            text += "  skipped"
        ax.text(r["rows_out"] + top * 0.01, yi - 0.2, text, va="center", fontsize=8)
    ax.set_yticks(y, [r["stage"] for r in rows], fontsize=9)
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("documents (rows)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Document funnel per stage")
    fig.tight_layout()
    return to_data_uri(fig)


def quality_histogram(samples: dict) -> str | None:
    if not samples:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bins = [i / 20 for i in range(21)]
    for color, (label, s) in zip(PALETTE, samples.items(), strict=False):
        values = [v for v in s.values if v is not None]
        ax.hist(values, bins=bins, alpha=0.55, color=color, label=f"{label} ({s.stage}, n={len(values):,})")
    ax.set_xlabel("quality_score (fastText P(reference-like))")
    ax.set_ylabel("documents")
    ax.legend(fontsize=8)
    ax.set_title("Quality-score distribution")
    fig.tight_layout()
    return to_data_uri(fig)


def language_bars(counts: dict[str, Counter], top: int = 12) -> str | None:
    if not counts:
        return None
    total = Counter()
    for c in counts.values():
        total.update(c)
    langs = [lang for lang, _ in total.most_common(top)]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    width = 0.8 / len(counts)
    for i, (color, (label, c)) in enumerate(zip(PALETTE, counts.items(), strict=False)):
        n = sum(c.values()) or 1
        ax.bar([x + i * width for x in range(len(langs))], [c.get(lang, 0) / n for lang in langs],
               width=width, color=color, label=label)
    ax.set_xticks([x + width * (len(counts) - 1) / 2 for x in range(len(langs))], langs)
    ax.set_ylabel("share of documents")
    ax.legend(fontsize=8)
    ax.set_title(f"Languages (top {len(langs)})")
    fig.tight_layout()
    return to_data_uri(fig)


def mix_shares(rows: list[dict], max_epochs: float | None) -> str | None:
    if not rows:
        return None
    groups = [r["mix_group"] for r in rows]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    series = [("share_before", "before mix"), ("target_share", "target"), ("share_after", "after mix")]
    width = 0.8 / len(series)
    for i, (color, (key, label)) in enumerate(zip(PALETTE, series, strict=False)):
        ax.bar([x + i * width for x in range(len(groups))], [r[key] or 0 for r in rows], width=width,
               color=color, label=label)
    ax.set_xticks([x + width for x in range(len(groups))], groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of tokens")
    ax.legend(fontsize=8)
    ax.set_title("Domain mix: token shares")
    ax2.bar(groups, [r["effective_epochs"] or 0 for r in rows], color=PALETTE[3])
    if max_epochs:
        ax2.axhline(max_epochs, color="#555555", linestyle="--", linewidth=1, label=f"cap {max_epochs:g}")
        ax2.legend(fontsize=8)
    ax2.axhline(1.0, color="#999999", linewidth=0.8)
    ax2.set_ylabel("effective epochs")
    ax2.tick_params(axis="x", rotation=30, labelsize=8)
    ax2.set_title("Epochs of each group's tokens")
    fig.tight_layout()
    return to_data_uri(fig)


def _bin_key(size_bin: str) -> int:
    return int(size_bin.split("-")[0])


def cluster_sizes(rows: list[dict]) -> str | None:
    if not rows:
        return None
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    bins = sorted({r["size_bin"] for r in rows}, key=_bin_key)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    width = 0.8 / len(stages)
    for i, (color, stage) in enumerate(zip(PALETTE, stages, strict=False)):
        by_bin = {r["size_bin"]: r["clusters"] for r in rows if r["stage"] == stage}
        ax.bar([x + i * width for x in range(len(bins))], [by_bin.get(b, 0) for b in bins], width=width,
               color=color, label=stage)
    ax.set_xticks([x + width * (len(stages) - 1) / 2 for x in range(len(bins))], bins)
    counts = [r["clusters"] for r in rows if r["clusters"]]
    if counts and max(counts) > 50 * min(counts):  # a long tail of large clusters: log scale shows it
        ax.set_yscale("log")
    ax.set_xlabel("cluster size (documents)")
    ax.set_ylabel("clusters")
    ax.legend(fontsize=8)
    ax.set_title("Duplicate clusters by size")
    fig.tight_layout()
    return to_data_uri(fig)


def synth_counts(synth: dict[str, dict[str, float]]) -> str | None:
    if not synth:
        return None
    names = sorted(synth)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(names, [synth[n].get("kept", 0) for n in names], color=PALETTE[2], label="kept")
    ax.set_ylabel("records")
    ax.tick_params(axis="x", rotation=20, labelsize=8)
    ax.set_title("Synthetic records kept per generator")
    fig.tight_layout()
    return to_data_uri(fig)


def token_bars(rows: list[dict]) -> str | None:
    if not rows:
        return None
    domains = sorted({r["domain"] for r in rows})
    fig, ax = plt.subplots(figsize=(8, 3.2))
    bottom = [0.0] * len(domains)
    for color, split in zip(PALETTE, ("train", "val"), strict=False):
        by = {r["domain"]: r["tokens"] for r in rows if r["split"] == split}
        vals = [by.get(d, 0) for d in domains]
        ax.bar(domains, vals, bottom=bottom, color=color, label=split)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("tokens")
    ax.tick_params(axis="x", rotation=20, labelsize=8)
    ax.legend(fontsize=8)
    ax.set_title("Tokens in the training shards per domain")
    fig.tight_layout()
    return to_data_uri(fig)


def loss_curve(records: list[dict]) -> str | None:
    train = [(r["step"], r["loss"]) for r in records if r.get("loss") is not None]
    val = [(r["step"], r["val_loss"]) for r in records if r.get("val_loss") is not None]
    if not train and not val:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if train:
        ax.plot(*zip(*train, strict=True), color=PALETTE[0], label="train loss")
    if val:
        ax.plot(*zip(*val, strict=True), color=PALETTE[1], marker="o", label="val loss")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.legend(fontsize=8)
    ax.set_title("Training loss")
    fig.tight_layout()
    return to_data_uri(fig)
