"""trainer/eval/real_eval.py: GSM8K items and their strict scoring, perplexity on real text."""

import gzip
import json
import math

import pytest
import torch
import torch.nn.functional as F

from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.eval import real_eval
from trainer.eval.real_eval import GSM8KItem, gsm8k_exact_match, gsm8k_items, is_right, text_perplexity
from trainer.infer.generate import GenerationOutput

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


def test_gsm8k_items_take_the_final_number(tmp_path):
    path = tmp_path / "gsm8k.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for q, a in (("How many?", "3 + 4 = <<3+4=7>>7\n#### 7"), ("Total?", "so\n#### 1,204")):
            f.write(json.dumps({"question": q, "answer": a}) + "\n")
    assert gsm8k_items(path) == [GSM8KItem("How many?", "7"), GSM8KItem("Total?", "1204")]
    assert len(gsm8k_items(path, 1)) == 1


@pytest.mark.parametrize(("completion", "answer", "right"), [
    ("3 + 4 = 7 apples.\nAnswer: 7", "7", True),
    ("Answer: $1,204.", "1204", True),
    ("Answer: 7 1,204 9", "1204", False),  # the right number among others scores 0
    ("Answer: 1204 or 7", "1204", False),
    ("Answer: 12", "1204", False),
])
def test_strict_final_number(completion, answer, right):
    assert is_right(completion, answer) == right


class _Tok:
    """Ids are indexes into a fixed list of words: enough to drive gsm8k_exact_match's decoding."""

    words = ["Answer: 18", "Answer: 7 18 9", "<|im_end|>"]

    def token_to_id(self, t):
        return self.words.index(t) if t in self.words else None

    def encode(self, text, add_special_tokens=False):
        return type("E", (), {"ids": [0, 1]})()

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(self.words[i] for i in ids)


def test_gsm8k_exact_match_scores_each_completion_strictly(monkeypatch):
    replies = [[0, 2], [1, 2], [0]]  # right and stopped; several numbers; right, ran out of tokens
    monkeypatch.setattr(real_eval, "generate",
                        lambda model, prompts, n, stop_ids, kv_policy=None: GenerationOutput(replies, [[]] * 3, [True, True, False]))
    items = [GSM8KItem("q", "18")] * 3
    acc, completions = gsm8k_exact_match(None, _Tok(), items, batch=3)
    assert completions == ["Answer: 18", "Answer: 7 18 9", "Answer: 18"]
    assert acc == pytest.approx(2 / 3)


def test_text_perplexity_scores_every_token_once(token_dir):
    from tokenizers import Tokenizer

    model = trained_model(token_dir)
    tok = Tokenizer.from_file(str(token_dir / "tokenizer.json"))
    texts = ["the cat sat on the mat and the dog sat on the log", "a bird flew over the tall tree"]
    ppl, count = text_perplexity(model, tok, texts, seq_len=5)
    ids = [tok.encode(t).ids for t in texts]
    assert count == sum(len(i) - 1 for i in ids)
    nll = 0.0
    with torch.no_grad():
        for doc in ids:
            for s in range(0, len(doc) - 1, 5):
                w = torch.tensor(doc[s:s + 6])[None]
                nll += F.cross_entropy(model(w[:, :-1])[0].float(), w[0, 1:], reduction="sum").item()
    assert ppl == pytest.approx(math.exp(nll / count), rel=1e-6)
    assert text_perplexity(model, tok, texts, seq_len=5, max_tokens=3)[1] == 5  # stops after a window
