"""Answers grounded in retrieved chunks, citing document ids; and the same question without them.

Sources are numbered in the prompt ([1], [2], ...) because small models copy a short marker far
more reliably than a 16-hex-digit id; the markers are mapped back to document ids afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.chat import ChatConfig, chat
from retrieval.index import Hit

SYSTEM = ("Answer the question using only the numbered sources. Reply with a short answer, then cite the "
          "sources you used like [1]. If the sources do not contain the answer, say you do not know.")
CLOSED_BOOK = "Answer the question with a short answer."
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class Answer:
    question: str
    text: str
    cited_doc_ids: list[str]
    retrieved: list[dict] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "citations": self.cited_doc_ids,
                "retrieved": self.retrieved, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}


def rag_messages(question: str, hits: list[Hit], max_chars: int = 1200) -> list[dict[str, str]]:
    sources = "\n\n".join(f"[{i + 1}] (doc {h.doc_id}) {h.title}\n{h.text[:max_chars]}" for i, h in enumerate(hits))
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {question}"}]


def cited_docs(text: str, hits: list[Hit]) -> list[str]:
    """Document ids the answer cites: its [n] markers, and any retrieved doc id it quotes verbatim."""
    out: list[str] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= len(hits) and hits[n - 1].doc_id not in out:
            out.append(hits[n - 1].doc_id)
    for h in hits:
        if h.doc_id in text and h.doc_id not in out:
            out.append(h.doc_id)
    return out


def answer_with_sources(cfg: ChatConfig, question: str, hits: list[Hit]) -> Answer:
    reply = chat(cfg, rag_messages(question, hits))
    text = reply.content.strip()
    return Answer(question, text, cited_docs(text, hits), [h.as_dict() for h in hits],
                  reply.prompt_tokens, reply.completion_tokens)


def answer_closed_book(cfg: ChatConfig, question: str) -> Answer:
    reply = chat(cfg, [{"role": "system", "content": CLOSED_BOOK}, {"role": "user", "content": question}])
    return Answer(question, reply.content.strip(), [], [], reply.prompt_tokens, reply.completion_tokens)
