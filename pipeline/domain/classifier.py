"""Domain labels for a batch: keyword rules, or the fastText domain model with a confidence floor."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.domain.keywords import DomainRules, classify
from pipeline.quality.fasttext_model import predict


@dataclass
class DomainBatch:
    domains: list[str]
    scores: list[float]
    rules: list[str | None]


def by_rules(texts: list[str], rules: DomainRules, fallback: str) -> DomainBatch:
    labels = [classify(t or "", rules) for t in texts]
    return DomainBatch([lab.domain or fallback for lab in labels], [float(lab.score) for lab in labels],
                       [f"keyword:{lab.domain}:{lab.rule}" if lab.domain else None for lab in labels])


def by_model(texts: list[str], model, min_probability: float, fallback: str, max_tokens: int) -> DomainBatch:
    labels, probs = predict(model, [t or "" for t in texts], max_tokens)
    domains = [lab if p >= min_probability else fallback for lab, p in zip(labels, probs, strict=True)]
    return DomainBatch(domains, [float(p) for p in probs],
                       ["fasttext" if p >= min_probability else None for p in probs])


def weak_labels(texts: list[str], rules: DomainRules, min_per_label: int) -> tuple[list[tuple[str, str]], dict]:
    """(label, text) for documents the rules label confidently; labels with too few examples dropped."""
    rows = [(lab.domain, t) for t in texts if (lab := classify(t, rules)).domain]
    counts = Counter(label for label, _ in rows)
    kept = {label for label, n in counts.items() if n >= min_per_label}
    return [r for r in rows if r[0] in kept], {"labelled": dict(sorted(counts.items())),
                                              "dropped_labels": sorted(set(counts) - kept)}


def multiclass_metrics(truth: list[str], pred: list[str]) -> dict:
    """Accuracy, macro F1 and per-label precision/recall."""
    per = {}
    for label in sorted(set(truth) | set(pred)):
        tp = sum(1 for t, p in zip(truth, pred, strict=True) if t == p == label)
        fp = sum(1 for t, p in zip(truth, pred, strict=True) if p == label != t)
        fn = sum(1 for t, p in zip(truth, pred, strict=True) if t == label != p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    accuracy = sum(1 for t, p in zip(truth, pred, strict=True) if t == p) / len(truth) if truth else 0.0
    macro = sum(v["f1"] for v in per.values()) / len(per) if per else 0.0
    return {"accuracy": accuracy, "macro_f1": macro, "per_label": per, "n": len(truth)}
