"""Synthetic pretrain records as a document dataset (source=synthetic), so tokenize reads them like any other."""

from __future__ import annotations

import json


def record_to_document(record: dict) -> dict:
    meta = {k: v for k, v in record.items() if k not in ("text", "title", "id", "source", "format", "kind")}
    return {"id": record["id"], "text": record["text"], "source": "synthetic", "url": None,
            "title": record.get("title"), "lang": None, "lang_score": None, "fetched_at": None,
            "metadata": json.dumps(meta, sort_keys=True), "domain": record.get("domain") or "unknown",
            "synth_generator": record["generator"], "synth_source_ids": list(record["source_ids"])}


def pretrain_documents(spark, lines: list[str]):
    """A Spark DataFrame in the document schema plus `domain`, `synth_generator`, `synth_source_ids`."""
    from pipeline.schema import CORE_COLUMNS

    rows = [record_to_document(json.loads(line)) for line in lines]
    core = ", ".join(f"{n} {'double' if n == 'lang_score' else 'string'}" for n in CORE_COLUMNS)
    schema = f"{core}, domain string, synth_generator string, synth_source_ids array<string>"
    cols = [*CORE_COLUMNS, "domain", "synth_generator", "synth_source_ids"]
    return spark.createDataFrame([tuple(r[c] for c in cols) for r in rows], schema)
