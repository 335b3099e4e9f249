"""Our models inside lm-evaluation-harness (EleutherAI): the three methods of its `LM` interface.

    python -m trainer lm-eval run --model llm-pipeline --model_args pretrained=<run | hf | quantized dir> \
        --tasks <task> --include_path <dir of task YAMLs>

or from Python: `lm_eval.simple_evaluate(model=PipelineLM(model=m, tokenizer=tok), tasks=[...])`.
Registered as "llm-pipeline" when this module is imported (`python -m trainer lm-eval ...`
imports it, then runs lm_eval's CLI). Scoring runs the plain forward on right-padded batches
(causal attention: pads after a sequence cannot change its logits); generation goes through
trainer/infer/generate.py. Quantized folders load as such, so harness tasks compare variants too.
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

from trainer.infer.generate import generate

EOS = "<|endoftext|>"


@register_model("llm-pipeline")
class PipelineLM(LM):
    def __init__(self, pretrained: str = "", model=None, tokenizer=None, batch_size: int | str = 8,
                 device: str = "cpu", max_length: int | None = None, **_ignored):
        super().__init__()
        if not device or (str(device).startswith("cuda") and not torch.cuda.is_available()):
            device = "cpu"  # the harness's CLI asks for cuda by default
        if model is None:
            from tokenizers import Tokenizer

            from trainer.infer.load_model import load_model

            loaded = load_model(pretrained, device)
            model = loaded.model
            tokenizer = tokenizer or (Tokenizer.from_file(str(loaded.tokenizer)) if loaded.tokenizer else None)
        if tokenizer is None:
            raise ValueError("PipelineLM needs a tokenizer (tokenizer.json beside the model, or tokenizer=)")
        self.model, self.tokenizer = model.eval(), tokenizer
        self.batch_size = int(batch_size) if str(batch_size).isdigit() else 8
        self.max_length = int(max_length or model.cfg.max_seq_len)
        eos = tokenizer.token_to_id(EOS)
        self.eot_token_id = 0 if eos is None else eos

    def tok_encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    @torch.no_grad()
    def _score(self, pairs: list[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        """(sum of log p(continuation | context), whether greedy decoding would produce it) per pair."""
        device = self.model.tok_embeddings.weight.device
        out = []
        for b in range(0, len(pairs), self.batch_size):
            chunk = pairs[b:b + self.batch_size]
            rows = [(ctx + cont)[-(self.max_length + 1):][:-1] for ctx, cont in chunk]
            width = max(len(r) for r in rows)
            x = torch.full((len(rows), width), self.eot_token_id, dtype=torch.long)
            for i, r in enumerate(rows):
                x[i, :len(r)] = torch.tensor(r)
            logprobs = F.log_softmax(self.model(x.to(device)).float(), dim=-1)
            for i, ((_, cont), r) in enumerate(zip(chunk, rows, strict=True)):
                lp = logprobs[i, len(r) - len(cont):len(r)]
                target = torch.tensor(cont, device=device)
                out.append((float(lp.gather(-1, target[:, None]).sum()), bool((lp.argmax(-1) == target).all())))
        return out

    def _split(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        if not context:
            return [self.eot_token_id], self.tok_encode(continuation)
        # trailing spaces belong to the continuation (how BPE merges " word"), as the harness's models do
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            context, continuation = context[:-n_spaces], context[-n_spaces:] + continuation
        whole, ctx = self.tok_encode(context + continuation), self.tok_encode(context)
        return ctx, whole[len(ctx):]

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        return self._score([self._split(*req.args) for req in requests])

    def loglikelihood_rolling(self, requests) -> list[float]:
        """Each document on its own, every token scored once with as much context as fits."""
        results = []
        for req in requests:
            windows = [make_disjoint_window(w) for w in get_rolling_token_windows(
                self.tok_encode(req.args[0]), self.eot_token_id, self.max_length, context_len=1)]
            results.append(sum(lp for lp, _ in self._score(windows)))
        return results

    def generate_until(self, requests) -> list[str]:
        results = []
        for req in requests:  # per request: each has its own stop strings and length
            context, kwargs = req.args
            kwargs = dict(kwargs or {})
            until = kwargs.get("until") or []
            until = [until] if isinstance(until, str) else list(until)
            max_new = int(kwargs.get("max_gen_toks", 256))
            temperature = float(kwargs.get("temperature", 0.0)) if kwargs.get("do_sample") else 0.0
            prompt = self.tok_encode(context)[-max(1, self.max_length - max_new):] or [self.eot_token_id]
            out = generate(self.model, [prompt], max_new, temperature=temperature, stop_ids=[self.eot_token_id])
            toks = out.tokens[0][:-1] if out.finished[0] else out.tokens[0]
            text = self.tokenizer.decode(toks, skip_special_tokens=False)
            for stop in until:
                text = text.split(stop)[0] if stop else text
            results.append(text)
        return results


def run_argv(argv: list[str]) -> int:
    """lm_eval's own CLI (its arguments as is) with "llm-pipeline" registered."""
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *argv]
    cli_evaluate()
    return 0
