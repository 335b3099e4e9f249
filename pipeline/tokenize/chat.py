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

import json
from functools import cached_property
from pathlib import Path

from tokenizers import Tokenizer

from pipeline.tokenize.bpe import IM_END, IM_START

# The ChatML template in Jinja for `tokenizer_config.json` (HF transformers' apply_chat_template).
JINJA_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                  " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
                  "{{ '<|im_start|>assistant\\n' }}{% endif %}")


class ChatTemplateError(ValueError):
    pass


class ChatTemplate:
    def __init__(self, source: str = JINJA_TEMPLATE, special_tokens: dict[str, str] | None = None):
        self.source = source
        self.special_tokens = special_tokens or {}

    @classmethod
    def beside(cls, tokenizer_file: str | Path) -> ChatTemplate:
        """The template shipped next to `tokenizer_file` (transformers 5: chat_template.jinja; 4.x:
        tokenizer_config.json's chat_template), or ChatML when there is none."""
        folder = Path(tokenizer_file).parent
        config_file = folder / "tokenizer_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        special = {k: v for k, v in config.items() if k.endswith("_token") and isinstance(v, str)}
        if (folder / "chat_template.jinja").is_file():
            return cls((folder / "chat_template.jinja").read_text(), special)
        if isinstance(config.get("chat_template"), str):
            return cls(config["chat_template"], special)
        return cls(JINJA_TEMPLATE, special)

    @cached_property
    def _compiled(self):
        from jinja2 import ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str):
            raise ChatTemplateError(message)

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[ext.loopcontrols])
        env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False, **kw)
        env.globals["raise_exception"] = raise_exception
        return env.from_string(self.source)

    def render(self, messages: list[dict[str, str]], add_generation_prompt: bool = False) -> str:
        return self._compiled.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                     **self.special_tokens)

    def turns(self, messages: list[dict[str, str]]) -> list[str]:
        """Each message's rendered text; their concatenation is `render(messages)`."""
        out, before = [], ""
        for i in range(len(messages)):
            upto = self.render(messages[: i + 1])
            if not upto.startswith(before):
                raise ChatTemplateError("the chat template renders a conversation's prefix differently from the whole")
            out.append(upto[len(before):])
            before = upto
        return out


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
