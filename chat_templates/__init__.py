"""A chat template rendered the way transformers' `apply_chat_template` renders it: a sandboxed Jinja
environment with trim_blocks and lstrip_blocks, the tokenizer's special tokens as variables. ChatML when a
model ships none. Shared by the data pipeline (SFT/RL records in the base's format, pipeline/tokenize/chat.py)
and the trainer (prompts at evaluation, trainer/eval/real_eval.py), which may not import each other.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

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
