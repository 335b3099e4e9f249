"""The deep-research loop: plan, search through the MCP server's tools, read, write a cited report."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest

from pipeline.apps.research import (
    Budget,
    Note,
    ResearchAgent,
    evidence_chain,
    extractive_note,
    report_citations,
    research_over_mcp,
)
from retrieval.chat import ChatConfig

QUESTION = "In which town is the observatory that first recorded the Zorblax comet?"


def test_report_citations_from_markers_then_attribution():
    notes = [Note("doc-comet", "", "The Zorblax comet was first recorded by the Kelvar Observatory in 1911."),
             Note("doc-observatory", "", "The Kelvar Observatory stands on a granite hill above the town of Tarnwick.")]
    assert report_citations("It is Tarnwick [2]. Kelvar saw it [1].", notes, QUESTION) == ["doc-observatory", "doc-comet"]
    assert report_citations("The Kelvar Observatory stands above Tarnwick.", notes, QUESTION) == \
        ["doc-observatory"]
    assert report_citations("Nobody knows.", notes, QUESTION) == []


def test_evidence_chain_follows_the_hop_and_leaves_off_topic_notes_out():
    """The comet note names the observatory the question does not; the observatory note is linked through it.
    (In CI, SmolLM2's report once restated only the comet note: the evidence list is what cites the hop.)"""
    notes = [Note("doc-tea", "", "Matcha is a powder of shade-grown leaves whisked into hot water."),
             Note("doc-comet", "", "The Zorblax comet was first recorded by the Kelvar Observatory in 1911."),
             Note("doc-observatory", "", "Kelvar stands on a granite hill above Tarnwick.")]
    assert evidence_chain(notes, QUESTION) == [1, 2]
    assert evidence_chain(notes[:1], QUESTION) == []


def test_a_note_keeps_the_sentence_holding_the_answer_the_model_paraphrased():
    """SmolLM2's read of the observatory passage (CI): a paraphrase sharing 3 of the sentence's 7 words, but
    naming the town; the note keeps the passage's sentence with it, and nothing the model did not point at."""
    hit = {"doc_id": "doc-observatory", "text": "The Kelvar Observatory stands on a granite hill above the town of "
           "Tarnwick. It was founded by the astronomer Ilse Varga and still runs a public telescope."}
    said = "The observatory that first recorded the Zorblax comet is located in the town of Tarnwick."
    note = extractive_note(said, hit, QUESTION)
    assert note is not None and note.text == "The Kelvar Observatory stands on a granite hill above the town of Tarnwick."
    assert extractive_note("The observatory that first recorded the Zorblax comet.", hit, QUESTION) is None


class _FakeLLM(BaseHTTPRequestHandler):
    """Every completion costs 100 tokens and copies the passage it was shown (so notes are kept)."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][-1]["content"].split("Passage:\n")[-1]
        out = json.dumps({"choices": [{"message": {"content": text}}],
                          "usage": {"prompt_tokens": 80, "completion_tokens": 20}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_llm():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_budgets_stop_the_loop_and_every_step_is_logged(fake_llm, tmp_path):
    calls = []

    async def search(name, args):
        calls.append(args["query"])
        return {"hits": [{"chunk_id": f"c{len(calls)}{i}", "doc_id": f"d{i}", "title": "", "bm25_rank": 1,
                          "text": f"Fact {len(calls)}.{i} about the Kelvar Observatory."} for i in range(3)]}

    for budget, stop in ((Budget(max_steps=5, max_tokens=10_000), "steps"),
                         (Budget(max_steps=50, max_tokens=350), "tokens")):
        log = tmp_path / f"{stop}.jsonl"
        agent = ResearchAgent("r", search, ChatConfig(base_url=fake_llm, model="m"), budget, log)
        result = anyio.run(agent.run, QUESTION)
        steps = [json.loads(line) for line in log.read_text().splitlines()]
        assert result.stopped_by == stop and result.steps == len(steps) <= budget.max_steps
        assert steps[-1]["kind"] == "write" and steps[0]["kind"] == "plan"
        assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
        # the token budget is checked before each model call: at most one call's worth beyond it
        assert sum(s["tokens"] for s in steps) == result.tokens <= budget.max_tokens + 2 * 100


@pytest.mark.slow
def test_smollm2_answer_needs_two_documents_and_the_report_cites_both(indexed_run, vllm_server, tmp_path):
    data_root, url = indexed_run
    base_url, model = vllm_server
    log = tmp_path / "steps.jsonl"
    result = anyio.run(research_over_mcp, ["--data-root", str(data_root)], "apps", QUESTION,
                       ChatConfig(base_url=base_url, model=model, frequency_penalty=0.5),
                       Budget(max_steps=12, max_tokens=6000), log, dict(os.environ, PIPELINE_CATALOG_URL=url))
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert {"plan", "search", "read", "write"} <= set(kinds) and len(kinds) == result.steps <= 12
    searched = [json.loads(line) for line in log.read_text().splitlines() if '"search"' in line]
    assert any("doc-observatory" in s["hits"] for s in searched)
    assert {"doc-comet", "doc-observatory"} <= set(result.citations), (result.report, result.citations)
