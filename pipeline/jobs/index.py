"""Index a run's curated documents for retrieval: word-window chunks, model2vec embeddings, BM25.

Writes OUT/chunks/ (Parquet, one row per chunk with its embedding), OUT/bm25/ (a bm25s index) and
OUT/index.json; `retrieval.index.CorpusIndex` reads them (the MCP search tool, `python -m trainer rag`).
Chunking and embedding run on the executors; BM25's statistics span the whole corpus, so its index
is built on the driver from the chunk texts alone.
"""

import sys
from dataclasses import dataclass

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class IndexConfig:
    # the embeddings semantic dedup uses (pipeline/dedup/embeddings.py): model2vec distilled from MiniLM
    model_path: str = ""  # model2vec directory; empty: the one shipped in pipeline/dedup/models/
    chunk_words: int = 160  # see retrieval/chunking.py for why these sizes
    chunk_overlap: int = 32
    min_chunk_words: int = 8


CHUNK_SCHEMA = ("chunk_id string, doc_id string, chunk_index int, title string, url string, text string, "
                "emb array<float>")


class Index(Stage):
    name = "index"
    config_class = IndexConfig
    output_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        import json
        import tempfile
        from pathlib import Path

        from pipeline.dedup.embeddings import DEFAULT_MODEL2VEC
        from pipeline.errors import UsageError
        from pipeline.quality.artifacts import put_file, write_json
        from retrieval.chunking import ChunkSettings
        from retrieval.index import INDEX_META, STOPWORDS, bm25_tokens

        s: IndexConfig = ctx.settings
        settings = ChunkSettings(s.chunk_words, s.chunk_overlap, s.min_chunk_words)
        if settings.words <= settings.overlap:
            raise UsageError(f"index.chunk_words ({s.chunk_words}) must exceed index.chunk_overlap ({s.chunk_overlap})")
        model_path = str(Path(s.model_path or DEFAULT_MODEL2VEC).resolve())
        docs = ctx.read_documents()
        chunks = docs.select("id", "title", "url", "text").mapInPandas(
            _chunk_and_embed(settings, model_path), CHUNK_SCHEMA)
        chunks.write.mode("overwrite").parquet(f"{ctx.output}/chunks")
        written = ctx.spark.read.parquet(f"{ctx.output}/chunks")
        # the reader ranks rows in chunk_id order: build BM25 in the same order
        rows = written.select("chunk_id", "doc_id", "text").orderBy("chunk_id").collect()
        n_docs = len({r["doc_id"] for r in rows})
        if rows:
            import bm25s

            retriever = bm25s.BM25()
            retriever.index(bm25_tokens([r["text"] for r in rows]), show_progress=False)
            with tempfile.TemporaryDirectory() as tmp:
                retriever.save(tmp, show_progress=False)
                for f in Path(tmp).iterdir():
                    put_file(ctx.spark, str(f), f"{ctx.output}/bm25/{f.name}")
        meta = {"embedding": {"backend": "model2vec", "model_path": model_path},
                "chunk": {"words": s.chunk_words, "overlap": s.chunk_overlap, "min_words": s.min_chunk_words},
                "bm25": {"stopwords": STOPWORDS, "order": "chunk_id"}, "chunks": len(rows), "documents": n_docs}
        write_json(ctx.spark, f"{ctx.output}/{INDEX_META}", meta)
        print(f"[index] {len(rows)} chunks of {n_docs} documents: {json.dumps(meta['chunk'])}")
        return StageResult(stats={"rows_out": len(rows), "chunks": len(rows), "documents_indexed": n_docs})


def _chunk_and_embed(settings, model_path: str):
    def run(batches):
        import numpy as np
        import pandas as pd

        from pipeline.dedup.embeddings import embed
        from retrieval.chunking import chunk_id, chunk_text

        for pdf in batches:
            rows = [(chunk_id(d, i), d, i, t, u, c) for d, t, u, x in
                    zip(pdf["id"], pdf["title"], pdf["url"], pdf["text"], strict=True)
                    for i, c in enumerate(chunk_text(x, settings))]
            if not rows:  # Arrow cannot type an empty column of vectors
                continue
            out = pd.DataFrame(rows, columns=["chunk_id", "doc_id", "chunk_index", "title", "url", "text"])
            vecs = embed(out["text"].tolist(), "model2vec", model_path)
            out["emb"] = list(np.asarray(vecs, dtype=np.float32))
            yield out

    return run


STAGE = Index()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
