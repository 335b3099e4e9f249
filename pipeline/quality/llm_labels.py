"""train-quality with reference=llm: annotate a seeded sample with the served LLM, train fastText on it.

The driver sends the requests (a few hundred: no Spark job needed); completed annotations are journaled
like synth's, so a rerun after a kill only sends the missing ones.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.quality.llm_annotate import (
    PREFILL_BODY,
    annotate_messages,
    parse_score,
    spearman,
    threshold_for,
)
from pipeline.stage import StageContext, StageResult
from pipeline.synth.generator import ChatRequest

POSITIVE, NEGATIVE = "hq", "web"


def train_on_llm_scores(ctx: StageContext, cfg) -> StageResult:
    from pyspark.sql import functions as F

    from pipeline.llm import endpoint
    from pipeline.quality.artifacts import put_file, write_json
    from pipeline.quality.fasttext_model import binary_metrics, probability_of, split_heldout, train

    docs = ctx.read_documents()
    rows = [(r["id"], r["text"]) for r in docs.select("id", "text").where(F.length("text") > 0)
            .orderBy(F.xxhash64("id", F.lit(ctx.seed))).limit(cfg.annotate_docs).collect()]
    jdir = endpoint.journal_dir(cfg.llm, ctx.output, "train-quality")
    llm, server = endpoint.resolve(cfg.llm, os.path.dirname(jdir) if jdir else None, ctx.config.run.data_root)
    try:
        llm = dataclasses.replace(llm, journal_dir=jdir, max_tokens=1, temperature=0.0, top_logprobs=20,
                                  extra_body={**llm.extra_body, **PREFILL_BODY})
        gen = endpoint.partition_generator(llm, jdir, "annotate", "driver")
        outs = gen.complete([ChatRequest("annotate", annotate_messages(text)) for _, text in rows])
        if gen.journal is not None:
            gen.journal.close()
    finally:
        if server is not None:
            server.stop()
    counts = Counter({f"llm_{k}": v for k, v in gen.stats.items()})
    scored = []
    for (doc_id, text), out in zip(rows, outs, strict=True):
        score = parse_score(out)
        if score is None:
            counts["dropped_unparseable" if out else "dropped_no_response"] += 1
            continue
        scored.append((doc_id, text, score))
    cut = threshold_for([s for *_, s in scored], cfg.hq_score)
    labelled = [(POSITIVE if s >= cut else NEGATIVE, f"{i}\x00{t}") for i, t, s in scored]
    hist = Counter(str(round(s)) for *_, s in scored)
    if len({lab for lab, _ in labelled}) < 2:
        raise UsageError(f"train-quality.reference=llm: the annotator's {len(scored)} scores give one class only "
                         f"({dict(hist)}); annotate more documents")
    train_rows, held = split_heldout(labelled, cfg.heldout_fraction, ctx.seed)
    strip = [(lab, t.split("\x00", 1)[1]) for lab, t in train_rows]
    model = train(strip, cfg.fasttext, ctx.seed)
    by_id = {i: s for i, _, s in scored}
    held_ids = [t.split("\x00", 1)[0] for _, t in held]
    p_hq = probability_of(model, [t.split("\x00", 1)[1] for _, t in held], POSITIVE, cfg.fasttext.max_tokens)
    metrics = binary_metrics([lab == POSITIVE for lab, _ in held], p_hq, cfg.threshold)
    rho = spearman([by_id[i] for i in held_ids], list(p_hq))
    with tempfile.TemporaryDirectory() as tmp:
        local = f"{tmp}/model.bin"
        model.save_model(local)
        size = Path(local).stat().st_size
        put_file(ctx.spark, local, f"{ctx.output}/model.bin")
    from pipeline.storage import filesystem

    filesystem(ctx.output, ctx.spark).write_text(f"{ctx.output}/annotations.jsonl", "".join(
        json.dumps({"id": i, "score": round(s, 4)}) + "\n" for i, _, s in scored))
    report = {"reference": "llm", "heldout": metrics, "spearman_heldout": rho, "annotated": len(scored),
              "score_histogram": dict(sorted(hist.items())), "mean_score": sum(s for *_, s in scored) / len(scored),
              "hq_score_used": cut, "train_rows": len(train_rows), "labels": [POSITIVE, NEGATIVE],
              "model_bytes": size, "model": llm.model, **counts}
    write_json(ctx.spark, f"{ctx.output}/metrics.json", report)
    print(f"[train-quality] LLM-annotated {len(scored)} docs (hq = score >= {cut}); held-out Spearman "
          f"{rho if rho is None else round(rho, 3)}, f1 {metrics['f1']:.3f} on {metrics['n']} docs")
    return StageResult(stats={**report, "rows_out": 1}, rows_in=len(rows))
