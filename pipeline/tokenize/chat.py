"""Chat templates with a loss mask: the model learns only the assistant turns.

The default is ChatML, the template of the tokenizers this project trains:

    <|im_start|>{role}\n{content}<|im_end|>\n        (per message)
    <|im_start|>assistant\n                          (generation prompt, for RL prompts)

A base model's own template (`ChatTemplate.beside(tokenizer.json)`: the `chat_template.jinja` or
`tokenizer_config.json` shipped with it, e.g. SmolLM2's, which adds a default system prompt) is
rendered the way transformers' `apply_chat_template` renders it (a sandboxed Jinja environment with
trim_blocks and lstrip_blocks), so the ids we train on are the ids the base was tuned on.

The mask is 1 on an assistant message's content and its `<|im_end|>` (so the model learns to
stop), 0 elsewhere. Each message's text is the difference between the renderings of the
conversation up to it and up to the message before; segments are encoded separately so mask edges
fall on token edges.
"""

from __future__ import annotations

from tokenizers import Tokenizer

from chat_templates import JINJA_TEMPLATE, ChatTemplate, ChatTemplateError
from pipeline.tokenize.bpe import IM_END, IM_START

__all__ = ["JINJA_TEMPLATE", "CHATML", "ChatTemplate", "ChatTemplateError", "encode_with_mask", "render"]

CHATML = ChatTemplate()


def render(messages: list[dict[str, str]], add_generation_prompt: bool = False,
           template: ChatTemplate | None = None) -> str:
    return (template or CHATML).render(messages, add_generation_prompt)


def encode_with_mask(tok: Tokenizer, messages: list[dict[str, str]],
                     template: ChatTemplate | None = None) -> tuple[list[int], list[int]]:
    """Token ids of the rendered conversation and a 0/1 loss mask of the same length."""
    ids: list[int] = []
    mask: list[int] = []

    def add(text: str, learn: int) -> None:
        piece = tok.encode(text, add_special_tokens=False).ids if text else []
        ids.extend(piece)
        mask.extend([learn] * len(piece))

    for m, turn in zip(messages, (template or CHATML).turns(messages), strict=True):
        if m["role"] != "assistant":
            add(turn, 0)
            continue
        answer = f"{m['content']}{IM_END}"
        at = turn.rfind(answer)
        if at < 0 or IM_START not in turn[:at]:
            raise ChatTemplateError(f"the chat template does not end an assistant turn with {IM_END}")
        add(turn[:at], 0)
        add(answer, 1)
        add(turn[at + len(answer):], 0)
    return ids, mask
