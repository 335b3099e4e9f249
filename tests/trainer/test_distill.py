"""trainer/posttrain/distill.py: `trainer distill` makes a draft that `load_model` reads and that speculative
decoding accepts exactly (greedy output = the teacher's token for token); a draft with another
tokenizer is refused; bad input is one line and exit 2."""

import json

import pytest
import torch

from tests.trainer.test_generate import PROMPTS
from tests.trainer.tiny_lm import one_thread, trained_model
from trainer.cli import main
from trainer.infer.generate import generate
from trainer.infer.load_model import load_model
from trainer.infer.speculative import speculative_generate
from trainer.model.checkpoint import save_transformer
from trainer.posttrain.distill import DistillConfig, distill, spaced_layers
from trainer.train.data import TokenShards

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


@pytest.fixture(scope="module")
def teacher_dir(token_dir, tmp_path_factory):
    """A tiny trained 3-layer teacher as a run, and a JSONL of its own greedy continuations."""
    root = tmp_path_factory.mktemp("distill")
    teacher = trained_model(token_dir, n_layers=3)
    save_transformer(teacher, root / "teacher", 1, TokenShards(token_dir).tokenizer_path)
    prompts = [p[:3] for p in PROMPTS] + [[i, i + 1] for i in range(20, 80, 6)]
    steps = []  # the teacher's top-k before each generated token, as benchmarks/distill_data_smollm2.py keeps
    hook = teacher.register_forward_hook(lambda _m, _i, logits: steps.append(logits[:, -1].topk(8, -1)))
    out = generate(teacher, prompts, 24)
    hook.remove()
    lines = [json.dumps({"ids": p + t, "loss_from": len(p), "top_ids": [s.indices[i].tolist() for s in steps[:len(t)]],
                         "top_logits": [s.values[i].tolist() for s in steps[:len(t)]]})
             for i, (p, t) in enumerate(zip(prompts, out.tokens, strict=True))]
    (root / "selfgen.jsonl").write_text("\n".join(lines) + "\n")
    plain = [json.dumps({"ids": p + t, "loss_from": len(p)}) for p, t in zip(prompts, out.tokens, strict=True)]
    (root / "selfgen_tokens.jsonl").write_text("\n".join(plain) + "\n")
    return root


def _config(root, out, **overrides) -> DistillConfig:
    fields = dict(layers=2, head_vocab=64, steps=4, seq_len=32, micro_batch_size=4, log_every=2)
    return DistillConfig(teacher=str(root / "teacher"), data=str(root / "selfgen.jsonl"), out_dir=str(root / out),
                         **{**fields, **overrides})


def test_spaced_layers_keep_first_and_last():
    assert spaced_layers(30, 2) == [0, 29]
    assert spaced_layers(30, 4) == [0, 10, 19, 29]
    assert spaced_layers(3, 1) == [2]


def test_distilled_draft_loads_and_speculates_exactly(teacher_dir):
    result = distill(_config(teacher_dir, "draft"))
    assert result["layer_ids"] == [0, 2] and 0.0 <= result["val_top1_agreement"] <= 1.0
    loaded = load_model(teacher_dir / "draft")
    draft = loaded.model
    assert loaded.tokenizer is not None and (draft.cfg.n_layers, draft.cfg.head_vocab) == (2, 64)
    assert draft.output.weight.shape[0] == 64 and not draft.cfg.tie_embeddings
    logits = draft(torch.tensor([PROMPTS[0]]))  # ids outside the restricted head can never be proposed
    outside = torch.ones(draft.cfg.vocab_size, dtype=torch.bool)
    outside[draft.head_ids] = False
    assert torch.isinf(logits[..., outside]).all() and torch.isfinite(logits[..., ~outside]).all()
    teacher = load_model(teacher_dir / "teacher").model
    plain = generate(teacher, PROMPTS, max_new_tokens=16)
    spec = speculative_generate(teacher, draft, PROMPTS, max_new_tokens=16, k=3)
    assert spec.tokens == plain.tokens and spec.proposed > 0
    metrics = [json.loads(line) for line in (teacher_dir / "draft" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "loss" in m] == [2, 4]
    hf = teacher_dir / "draft_hf"  # a restricted head has no Llama lm_head: export refuses
    assert main(["export", "--checkpoint", str(teacher_dir / "draft"), "--out", str(hf)]) == 2
    assert not (hf / "model.safetensors").exists()


def test_student_starts_as_the_teachers_layers(teacher_dir):
    from trainer.posttrain.distill import student_from_teacher

    teacher = load_model(teacher_dir / "teacher").model
    student = student_from_teacher(teacher, [0, 1, 2], None)  # every layer, full head: the teacher itself
    x = torch.tensor([PROMPTS[0]])
    torch.testing.assert_close(student.eval()(x), teacher(x))


def test_jsonl_top_logits_line_up_with_the_answer_tokens(teacher_dir):
    from trainer.posttrain.distill_data import load_distill_set

    data = load_distill_set(teacher_dir / "selfgen.jsonl", 32, 10_000)
    teacher = load_model(teacher_dir / "teacher").model
    for r in range(3):
        top = teacher(data.tokens[r:r + 1])[0].topk(1, -1)
        m = data.mask[r]
        assert m.sum() == 24 and torch.equal(top.indices[m].int(), data.top_ids[r][m][:, :1])
        torch.testing.assert_close(top.values[m], data.top_logits[r][m][:, :1].float(), atol=1e-2, rtol=1e-2)


def test_cross_entropy_on_teacher_tokens_without_logits(teacher_dir):
    cfg = _config(teacher_dir, "draft_ce", steps=2)
    cfg.data = str(teacher_dir / "selfgen_tokens.jsonl")
    distill(cfg)
    assert load_model(teacher_dir / "draft_ce").model.cfg.head_vocab == 64


def test_kl_to_teacher_topk_on_token_shards(teacher_dir, token_dir):
    cfg = _config(teacher_dir, "draft_kl", top_k=8, max_sequences=8, steps=2)
    cfg.data = str(token_dir)
    distill(cfg)
    assert (teacher_dir / "draft_kl" / "teacher_topk.pt").is_file()
    assert load_model(teacher_dir / "draft_kl").model.cfg.n_layers == 2


def test_a_draft_with_another_tokenizer_is_refused(teacher_dir, token_dir):
    from tokenizers import Tokenizer

    from trainer.eval.evaluate import draft_model
    from trainer.infer.speculative import VocabularyMismatch

    draft_dir = teacher_dir / "draft_other_tokenizer"
    save_transformer(trained_model(token_dir, dim=32, n_layers=1, steps=30), draft_dir, 1, None)
    spec = json.loads(TokenShards(token_dir).tokenizer_path.read_text())
    vocab = spec["model"]["vocab"]
    a, b = sorted(vocab, key=vocab.get)[40:42]
    vocab[a], vocab[b] = vocab[b], vocab[a]  # same size, two ids swapped
    (draft_dir / "tokenizer.json").write_text(json.dumps(spec))
    target_tokenizer = Tokenizer.from_file(str(TokenShards(token_dir).tokenizer_path))
    with pytest.raises(VocabularyMismatch, match="draft tokenizer differs from the target's"):
        draft_model(str(draft_dir), None, target_tokenizer, "cpu")


def test_bad_input_is_one_line_and_exit_2(teacher_dir, token_dir, tmp_path, capsys):
    teacher = str(teacher_dir / "teacher")
    assert main(["distill", "--teacher", teacher, "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o"), "--head-vocab", "64"]) == 2
    assert "neither a JSONL" in capsys.readouterr().err
    assert main(["distill", "--teacher", teacher, "--data", str(token_dir), "--out", str(tmp_path / "o"), "--head-vocab", "64"]) == 2
    assert "needs the teacher's logits" in capsys.readouterr().err
    (tmp_path / "bad.jsonl").write_text('{"ids": [1, 2, 999999], "loss_from": 1}\n')
    assert main(["distill", "--teacher", teacher, "--data", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "o"), "--head-vocab", "64"]) == 2
    assert "outside the teacher's vocabulary" in capsys.readouterr().err
    assert main(["distill", "--teacher", str(tmp_path), "--data", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "o"), "--head-vocab", "64"]) == 2
    assert not (tmp_path / "o").exists()
