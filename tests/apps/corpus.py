"""A tiny curated corpus with known answers, indexed by the real `index` stage.

Two documents chain (the comet names the observatory, only the observatory's document names its
town): a question about the comet's town needs both, as the research loop's test requires.
"""

from __future__ import annotations

from pathlib import Path

DOCS = [
    ("doc-comet", "The Zorblax comet",
     "The Zorblax comet was first recorded by the Kelvar Observatory in 1911. Its orbit brings it back "
     "every 83 years, and its tail glows green because of diatomic carbon."),
    ("doc-observatory", "The Kelvar Observatory",
     "The Kelvar Observatory stands on a granite hill above the town of Tarnwick. It was founded by the "
     "astronomer Ilse Varga and still runs a public telescope on clear Friday nights. "),
    ("doc-bread", "Sourdough starters",
     "A sourdough starter is a culture of wild yeast and lactic acid bacteria kept in flour and water. "
     "Bakers feed it daily; a starter named Herman has been kept alive in one bakery since 1957. "),
    ("doc-river", "The river Oster",
     "The river Oster rises in the Brannoch hills and flows 212 kilometres to the sea. Salmon return to "
     "its upper reaches every autumn, and the old mill at Dunford still grinds grain with its water. "),
    ("doc-violin", "Violin making",
     "A violin's top plate is usually carved from spruce and its back from maple. The varnish recipe of "
     "the workshop in Cremona remained a family secret for three generations. "),
    ("doc-tea", "Green tea",
     "Green tea leaves are steamed or pan-fired soon after picking, which stops oxidation and keeps the "
     "leaves green. Matcha is a powder of shade-grown leaves whisked into hot water. "),
]


def rows() -> list[dict]:
    return [{"id": i, "text": text, "source": "web", "url": f"https://example.org/{i}", "title": title,
             "lang": "en", "lang_score": 1.0, "fetched_at": None, "metadata": "{}"} for i, title, text in DOCS]


def build_run(spark, data_root: Path, run_id: str = "apps") -> Path:
    """<data_root>/<run>/mix (the curated documents) and <run>/index, written by the index stage."""
    from pipeline.config import load_config
    from pipeline.runner import run_stage
    from pipeline.schema import spark_schema

    mix = data_root / run_id / "mix"
    spark.createDataFrame(rows(), spark_schema()).repartition(2).write.mode("overwrite").parquet(str(mix))
    (mix / "_SUCCESS").touch()
    cfg = load_config(None, [f"run.data_root={data_root}", "index.chunk_words=48", "index.chunk_overlap=8"])
    run_stage("index", [str(mix)], str(data_root / run_id / "index"), cfg, spark=spark)
    return data_root / run_id / "index"
