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
    citation_method: str = "none"  # markers | attributed | none (see cited_docs)
    retrieved: list[dict] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "citations": self.cited_doc_ids,
                "citation_method": self.citation_method,
                "retrieved": self.retrieved, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}


def rag_messages(question: str, hits: list[Hit], max_chars: int = 1200) -> list[dict[str, str]]:
    sources = "\n\n".join(f"[{i + 1}] (doc {h.doc_id}) {h.title}\n{h.text[:max_chars]}" for i, h in enumerate(hits))
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {question}"}]


def cited_docs(text: str, hits: list[Hit]) -> tuple[list[str], str]:
    """Document ids the answer cites, and how they were found.

    "markers": its [n] markers (or a retrieved doc id quoted verbatim). A small model often answers
    without markers; then "attributed": the retrieved chunks that contain most of the answer's
    content words (post-hoc attribution), else "none".
    """
    out: list[str] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= len(hits) and hits[n - 1].doc_id not in out:
            out.append(hits[n - 1].doc_id)
    out += [h.doc_id for h in hits if h.doc_id in text and h.doc_id not in out]
    if out:
        return out, "markers"
    words = content_words(_MARKER.sub(" ", text))
    if not words:
        return [], "none"
    for h in hits:
        covered = len(words & content_words(h.text)) / len(words)
        if covered >= ATTRIBUTION_MIN_COVERAGE and h.doc_id not in out:
            out.append(h.doc_id)
    return out, ("attributed" if out else "none")


ATTRIBUTION_MIN_COVERAGE = 0.6  # share of the answer's content words a chunk must contain to be cited
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
                   "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were",
                   "which", "who", "with", "what", "when", "where", "why", "how", "not", "do", "does",
                   "did", "i", "you", "source", "sources"])


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def answer_with_sources(cfg: ChatConfig, question: str, hits: list[Hit]) -> Answer:
    reply = chat(cfg, rag_messages(question, hits))
    text = reply.content.strip()
    cited, method = cited_docs(text, hits)
    return Answer(question, text, cited, method, [h.as_dict() for h in hits], reply.prompt_tokens,
                  reply.completion_tokens)


def answer_closed_book(cfg: ChatConfig, question: str) -> Answer:
    reply = chat(cfg, [{"role": "system", "content": CLOSED_BOOK}, {"role": "user", "content": question}])
    return Answer(question, reply.content.strip(), [], "none", [], reply.prompt_tokens, reply.completion_tokens)
