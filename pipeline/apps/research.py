"""A bounded deep-research loop: plan, search the corpus through the MCP tools, read, write a cited report.

    python -m pipeline.apps.research --run demo --base-url http://127.0.0.1:8000/v1 --model M "question"

Steps, each one logged as a JSON line (kind, input, output, tokens, seconds):
  plan    the model proposes search queries (the question itself is always the first one)
  search  `search_documents` on the MCP server (the same server agents use), top-k chunks per query
  read    the model notes what a new chunk says about the question; a note names its document
  hop     names the notes mention that the question does not (e.g. the observatory a comet note
          names) become the next queries: a second hop of retrieval, as multi-hop QA needs
  write   the model writes the report from the numbered notes; citations map back to document ids
The loop stops at `max_steps` model/tool calls or `max_tokens` model tokens (prompt + completion as
the server counts them), whichever comes first, and then writes from what it has.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.answer import content_words
from retrieval.chat import ChatConfig, ChatError, chat

ToolCall = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")  # multi-word proper names
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class Budget:
    max_steps: int = 16  # model calls + tool calls
    max_tokens: int = 12000  # model tokens, prompt + completion
    max_queries: int = 4
    max_reads: int = 6


@dataclass
class Note:
    doc_id: str
    title: str
    text: str  # what the model noted, or the chunk's own text when the note came back empty


@dataclass
class Research:
    question: str
    report: str = ""
    citations: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0
    stopped_by: str = ""  # "" | "steps" | "tokens"


class ResearchAgent:
    def __init__(self, run_id: str, call_tool: ToolCall, chat_cfg: ChatConfig, budget: Budget | None = None,
                 log_path: Path | None = None, k: int = 3):
        self.run_id, self.call_tool, self.chat_cfg, self.k = run_id, call_tool, chat_cfg, k
        self.budget = budget or Budget()
        self.log_path = log_path
        self.state: Research | None = None

    # -- bookkeeping -------------------------------------------------------------------------------
    def _log(self, kind: str, data: dict[str, Any], started: float, tokens: int = 0) -> None:
        st = self.state
        st.steps += 1
        st.tokens += tokens
        line = {"step": st.steps, "kind": kind, "tokens": tokens, "tokens_total": st.tokens,
                "seconds": round(time.time() - started, 3), **data}
        if self.log_path is not None:
            with self.log_path.open("a") as f:
                f.write(json.dumps(line) + "\n")

    def _can(self) -> bool:
        """Room for one more step: checked before each, so the model's tokens end at most one call
        (and the report) beyond max_tokens."""
        st = self.state
        if st.steps >= self.budget.max_steps - 1:  # one step is kept for the report
            st.stopped_by = st.stopped_by or "steps"
            return False
        if st.tokens >= self.budget.max_tokens:
            st.stopped_by = st.stopped_by or "tokens"
            return False
        return True

    def _ask(self, kind: str, messages: list[dict[str, str]], max_tokens: int, data: dict[str, Any]) -> str:
        started = time.time()
        reply = chat(self.chat_cfg, messages, max_tokens=max_tokens)
        self._log(kind, {**data, "output": reply.content}, started, reply.prompt_tokens + reply.completion_tokens)
        return reply.content.strip()

    # -- the loop ------------------------------------------------------------------------------------
    async def run(self, question: str) -> Research:
        self.state = st = Research(question)
        queries = [question] + (self._plan(question) if self._can() else [])
        seen_chunks: set[str] = set()
        asked: set[str] = set()
        while queries and len(asked) < self.budget.max_queries and self._can():
            query = queries.pop(0)
            if query.lower() in asked:
                continue
            asked.add(query.lower())
            started = time.time()
            found = await self.call_tool("search_documents", {"run_id": self.run_id, "query": query, "k": self.k})
            hits = [h for h in found.get("hits", []) if h["chunk_id"] not in seen_chunks]
            self._log("search", {"query": query, "hits": [h["doc_id"] for h in found.get("hits", [])]}, started)
            for rank, hit in enumerate(hits):
                seen_chunks.add(hit["chunk_id"])
                if rank and hit.get("bm25_rank") is None:
                    continue  # below the top, read only chunks that share a word with the query
                if len(st.notes) >= self.budget.max_reads or not self._can():
                    break
                note = self._read(question, hit)
                if note is None:
                    continue
                st.notes.append(note)
                queries += [n for n in self._hop_names(question, hit["text"]) if n.lower() not in asked]
        self._write(question)
        return st

    def _plan(self, question: str) -> list[str]:
        out = self._ask("plan", [
            {"role": "system", "content": "You plan web-style searches. Reply with up to 3 short search "
                                          "queries, one per line, nothing else."},
            {"role": "user", "content": question}], 64, {"question": question})
        lines = [re.sub(r"^[\s\-*\d.)]+", "", line).strip().strip('"') for line in out.splitlines()]
        return [q for q in lines if 2 <= len(q.split()) <= 12][:3]

    def _read(self, question: str, hit: dict[str, Any]) -> Note | None:
        out = self._ask("read", [
            {"role": "system", "content": "Copy the sentences of the passage that help answer the question. "
                                          "If none do, reply NONE."},
            {"role": "user", "content": f"Question: {question}\n\nPassage:\n{hit['text']}"}], 96,
            {"doc_id": hit["doc_id"], "chunk_id": hit["chunk_id"]})
        return extractive_note(out, hit, question)

    @staticmethod
    def _hop_names(question: str, passage: str) -> list[str]:
        """Proper names in a passage the question does not mention: what the next hop searches for."""
        asked = content_words(question)
        names = dict.fromkeys(m.group(0) for m in _NAME.finditer(passage))
        return [n for n in names if not content_words(n) <= asked][:2]

    def _write(self, question: str) -> None:
        st = self.state
        notes = "\n".join(f"[{i + 1}] {n.title}: {n.text}" for i, n in enumerate(st.notes))
        if not st.notes:
            st.report = "The corpus had nothing on this question."
            self._log("write", {"output": st.report, "notes": 0}, time.time())
            return
        try:  # the report step is always taken once: _can() keeps a step for it
            st.report = self._ask("write", [
                {"role": "system", "content": "Write a short report answering the question from the "
                                              "numbered notes only. Cite notes like [1] after each fact."},
                {"role": "user", "content": f"Question: {question}\n\nNotes:\n{notes}"}], 200,
                {"notes": len(st.notes)})
        except ChatError:
            st.report = ""
        if not st.report:  # no model left: the notes themselves are the report
            st.report = notes
        else:  # a 135M writer often restates one note and drops the hop: the evidence chain is listed, cited
            chain = evidence_chain(st.notes, question)
            if chain:
                st.report += "\n\nEvidence:\n" + "\n".join(f"- {st.notes[i].text} [{i + 1}]" for i in chain)
        st.citations = report_citations(st.report, st.notes, question)


def extractive_note(model_output: str, hit: dict[str, Any], question: str = "") -> Note | None:
    """The passage's own sentences the model pointed at: those with half their words in its output, or
    holding a word of its output that the question does not ask about (the answer it found: "Tarnwick" in
    "the observatory ... is located in the town of Tarnwick", a paraphrase sharing only 3 of its sentence's
    7 words).

    A 135M model paraphrases into errors and copies irrelevant text alike; keeping the passage's
    words means a note never says what its document does not. None when it pointed at nothing.
    """
    said = content_words(model_output)
    found = said - content_words(question)
    kept = [s for s in re.split(r"(?<=[.!?])\s+", hit["text"]) if (w := content_words(s))
            and (len(w & said) / len(w) >= 0.5 or (question and w & found))]
    return Note(hit["doc_id"], hit.get("title", ""), " ".join(kept)) if kept else None


def evidence_chain(notes: list[Note], question: str) -> list[int]:
    """Indices of the notes linked to the question: those sharing a content word with it, then, hop by hop,
    those sharing one with a linked note (the bridge of a two-hop answer names the observatory, not the
    comet). Notes from passages on other topics stay out."""
    words = [content_words(n.text) for n in notes]
    linked: list[int] = []
    frontier = content_words(question)
    while True:
        new = [i for i, w in enumerate(words) if i not in linked and w & frontier]
        if not new:
            return sorted(linked)
        linked += new
        frontier = set().union(*(words[i] for i in new))


def report_citations(report: str, notes: list[Note], question: str) -> list[str]:
    """Document ids a report cites: its [n] markers; for a sentence with none (post-hoc attribution),
    each note that supplies half the sentence's words beyond the question's, or half of whose own
    words the sentence restates (a hop's bridge fact is often restated in the question's words)."""
    asked = content_words(question)
    cited: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", report):
        marks = [int(m) for m in _MARKER.findall(sentence) if 1 <= int(m) <= len(notes)]
        if marks:
            cited += [notes[m - 1].doc_id for m in marks]
            continue
        words = content_words(_MARKER.sub(" ", sentence))
        novel = words - asked
        for n in notes:
            own = content_words(n.text)
            if (novel and len(novel & own) / len(novel) >= 0.5) or (own and len(own & words) / len(own) >= 0.5):
                cited.append(n.doc_id)
    return list(dict.fromkeys(cited))


async def research_over_mcp(server_args: list[str], run_id: str, question: str, chat_cfg: ChatConfig,
                            budget: Budget | None = None, log_path: Path | None = None,
                            env: dict[str, str] | None = None) -> Research:
    """Start the MCP server over stdio and run the agent with its tools."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "pipeline.apps.mcp_server", *server_args],
                                   env=env)
    async with Client(params, read_timeout_seconds=120) as client:
        async def call_tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, args)
            if result.is_error:
                raise RuntimeError(result.content[0].text)
            return result.structured_content or json.loads(result.content[0].text)

        return await ResearchAgent(run_id, call_tool, chat_cfg, budget, log_path).run(question)


def main(argv: list[str] | None = None) -> int:
    import os

    import anyio

    p = argparse.ArgumentParser(prog="python -m pipeline.apps.research", description=__doc__.splitlines()[0])
    p.add_argument("question")
    p.add_argument("--run", required=True)
    p.add_argument("--data-root", help="passed to the MCP server")
    p.add_argument("--base-url", default=os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8000/v1"))
    p.add_argument("--model", default=os.environ.get("LLM_MODEL", ""))
    p.add_argument("--max-steps", type=int, default=Budget.max_steps)
    p.add_argument("--max-tokens", type=int, default=Budget.max_tokens)
    p.add_argument("--log", help="JSONL file for the steps (default: none)")
    p.add_argument("--frequency-penalty", type=float, default=0.5)
    args = p.parse_args(argv)
    server_args = ["--data-root", args.data_root] if args.data_root else []
    budget = Budget(max_steps=args.max_steps, max_tokens=args.max_tokens)
    try:
        result = anyio.run(research_over_mcp, server_args, args.run, args.question,
                           ChatConfig(base_url=args.base_url, model=args.model,
                                      frequency_penalty=args.frequency_penalty), budget,
                           Path(args.log) if args.log else None)
    except (ChatError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(result.report)
    print("\nsources: " + (", ".join(result.citations) or "none"))
    print(f"steps {result.steps}, tokens {result.tokens}" + (f", stopped by {result.stopped_by} budget"
                                                             if result.stopped_by else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
