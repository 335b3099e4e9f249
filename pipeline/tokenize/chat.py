"""ChatML chat template with a loss mask: the model learns only the assistant turns.

    <|im_start|>{role}\n{content}<|im_end|>\n        (per message)
    <|im_start|>assistant\n                          (generation prompt, for RL prompts)

The mask is 1 on an assistant message's content and its `<|im_end|>` (so the model learns to
stop), 0 elsewhere. Segments are encoded separately so mask edges fall on token edges.
"""

from __future__ import annotations

from tokenizers import Tokenizer

from pipeline.tokenize.bpe import IM_END, IM_START

# The same template in Jinja for `tokenizer_config.json` (HF transformers' apply_chat_template).
JINJA_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                  " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
                  "{{ '<|im_start|>assistant\\n' }}{% endif %}")


def render(messages: list[dict[str, str]], add_generation_prompt: bool = False) -> str:
    text = "".join(f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in messages)
    return text + (f"{IM_START}assistant\n" if add_generation_prompt else "")


def encode_with_mask(tok: Tokenizer, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """Token ids of the rendered conversation and a 0/1 loss mask of the same length."""
    ids: list[int] = []
    mask: list[int] = []

    def add(text: str, learn: int) -> None:
        piece = tok.encode(text, add_special_tokens=False).ids
        ids.extend(piece)
        mask.extend([learn] * len(piece))

    for m in messages:
        learn = 1 if m["role"] == "assistant" else 0
        add(f"{IM_START}{m['role']}\n", 0)
        add(f"{m['content']}{IM_END}", learn)
        add("\n", 0)
    return ids, mask
