"""Chunking, the index stage, hybrid retrieval and `python -m trainer rag` on the real served model."""

from __future__ import annotations

import json
import socket

import pytest

from retrieval.answer import cited_docs
from retrieval.chunking import ChunkSettings, chunk_id, chunk_text
from retrieval.index import Hit, IndexMissing, load_index
from trainer.cli import main as trainer_main


def test_chunks_overlap_and_a_short_tail_joins_the_last_window():
    words = [f"w{i}" for i in range(100)]
    chunks = chunk_text(" ".join(words), ChunkSettings(words=40, overlap=10, min_words=8))
    assert [c.split()[0] for c in chunks] == ["w0", "w30", "w60"]
    assert chunks[-1].split()[-1] == "w99"  # 90..99 (10 words) would be a window of its own: joined
    assert chunks[1].split()[:10] == words[30:40] and chunks[0].split()[-10:] == words[30:40]
    assert chunk_text("", ChunkSettings()) == [] and chunk_text("one two", ChunkSettings()) == ["one two"]
    with pytest.raises(ValueError):
        chunk_text("x y", ChunkSettings(words=8, overlap=8))
    assert chunk_id("d", 0) == chunk_id("d", 0) != chunk_id("d", 1)


def test_index_stage_output_and_each_retriever(indexed_run):
    data_root, _ = indexed_run
    index = load_index(data_root / "apps" / "index")
    assert index.meta["documents"] == 6 and len(index) == index.meta["chunks"] >= 6
    assert index.embeddings.shape[0] == len(index)
    assert index.meta["embedding"]["model_path"].endswith("minilm-m2v-128")  # semantic dedup's model
    question = "In which town does the Kelvar Observatory stand?"
    for mode in ("hybrid", "dense", "bm25"):
        assert index.search(question, k=3, mode=mode)[0].doc_id == "doc-observatory", mode
    # a paraphrase with no shared content word: only the embeddings can find it
    assert index.search("fermented dough culture", k=1, mode="dense")[0].doc_id == "doc-bread"
    assert index.search("the of and", k=3, mode="bm25") == []  # stopwords only: nothing to match
    with pytest.raises(IndexMissing):
        load_index(data_root / "no-run" / "index")


def test_citations_from_markers_or_attributed_to_the_supporting_chunk():
    hits = [Hit("c1", "doc-a", "", "", "The comet was recorded by the Kelvar Observatory.", 1, 1, 1),
            Hit("c2", "doc-b", "", "", "The observatory stands above Tarnwick.", 1, 2, 2)]
    assert cited_docs("Tarnwick [2], found by Kelvar [1].", hits) == (["doc-b", "doc-a"], "markers")
    assert cited_docs("It was the Kelvar Observatory.", hits) == (["doc-a"], "attributed")
    assert cited_docs("I do not know.", hits) == ([], "none")


def test_rag_user_errors_exit_2(indexed_run, capsys):
    data_root, _ = indexed_run
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    assert trainer_main(["rag", "--run", "apps", "--data-root", str(data_root), "--base-url", closed, "q?"]) == 2
    assert "unreachable" in capsys.readouterr().err
    assert trainer_main(["rag", "--run", "nope", "--data-root", str(data_root), "q?"]) == 2
    assert "no finished index" in capsys.readouterr().err


@pytest.mark.slow
def test_rag_answers_from_the_corpus_through_smollm2_and_cites_the_source(indexed_run, vllm_server, capsys):
    data_root, _ = indexed_run
    base_url, model = vllm_server
    code = trainer_main(["rag", "--run", "apps", "--data-root", str(data_root), "--base-url", base_url,
                         "--model", model, "--json", "Which observatory first recorded the Zorblax comet?"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["retrieved"][0]["doc_id"] == "doc-comet"
    assert "kelvar" in out["answer"].lower(), out["answer"]
    assert "doc-comet" in out["citations"], out
