"""Harness parity: lm-evaluation-harness scores our model through our adapter ("llm-pipeline") and
through its own `hf` model on the model's Hugging Face export, on the same local task data; the two
must agree (loglikelihood accuracy within 0.5 point, greedy exact match within 1 point, and each
request's log-likelihood within 1e-3), or a number from one path cannot be compared with the field's."""

import json
import os
import random

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # before datasets is imported: local files only
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from tests.trainer.tiny_lm import one_thread, trained_model  # noqa: E402
from tests.trainer.token_fixture import OBJECTS, PLACES, SUBJECTS, VERBS  # noqa: E402

pytestmark = [pytest.mark.usefixtures(one_thread.__name__), pytest.mark.slow]


def write_tasks(root, n: int = 40, seed: int = 0) -> None:
    """n items from the tiny model's grammar: four grammatical endings to choose from, so accuracy
    depends on the model (not 100% by construction), and a greedy-continuation item per context."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        context = f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        choices = [f" {p}." for p in rng.sample(PLACES, 4)]
        rows.append({"context": context, "choices": choices, "label": rng.randrange(4)})
    data = root / "items.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\ntest_split: test\n"
    (root / "parity_mc.yaml").write_text(f"""task: parity_mc
{common}output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: choices
doc_to_target: label
metric_list:
  - metric: acc
""")
    (root / "parity_gen.yaml").write_text(f"""task: parity_gen
{common}output_type: generate_until
doc_to_text: "{{{{context}}}}"
doc_to_target: "{{{{choices[label][:-1]}}}}"
generation_kwargs:
  until: ["."]
  max_gen_toks: 8
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
""")


def _evaluate(lm, root):
    import lm_eval
    from lm_eval.tasks import TaskManager

    out = lm_eval.simple_evaluate(model=lm, tasks=["parity_mc", "parity_gen"], log_samples=True,
                                  task_manager=TaskManager(include_path=str(root), include_defaults=False))
    lls = [float(r[0][0]) for s in out["samples"]["parity_mc"] for r in [s["resps"][i] for i in range(4)]]
    gens = [s["filtered_resps"][0] for s in out["samples"]["parity_gen"]]
    return out["results"], lls, gens


def test_our_adapter_and_lm_evals_hf_model_agree(token_dir, tmp_path):
    from lm_eval.models.huggingface import HFLM

    from trainer.eval.lm_eval_adapter import PipelineLM
    from trainer.model.export import write_hf_folder

    model = trained_model(token_dir)
    hf_dir = write_hf_folder(model.state_dict(), model.cfg, tmp_path / "hf", token_dir / "tokenizer.json")
    write_tasks(tmp_path)
    ours = PipelineLM(model=model, tokenizer=Tokenizer.from_file(str(token_dir / "tokenizer.json")), batch_size=8)
    theirs = HFLM(pretrained=str(hf_dir), device="cpu", batch_size=8, dtype="float32")
    (r_ours, ll_ours, gen_ours), (r_hf, ll_hf, gen_hf) = _evaluate(ours, tmp_path), _evaluate(theirs, tmp_path)

    acc_ours, acc_hf = r_ours["parity_mc"]["acc,none"], r_hf["parity_mc"]["acc,none"]
    assert 0.0 < acc_ours < 1.0  # the task discriminates: the comparison below means something
    assert abs(acc_ours - acc_hf) <= 0.005
    assert len(ll_ours) == len(ll_hf) == 160 and max(abs(a - b) for a, b in zip(ll_ours, ll_hf, strict=True)) < 1e-3
    em_ours, em_hf = r_ours["parity_gen"]["exact_match,none"], r_hf["parity_gen"]["exact_match,none"]
    assert 0.0 < em_ours < 1.0 and abs(em_ours - em_hf) <= 0.01
    assert sum(a == b for a, b in zip(gen_ours, gen_hf, strict=True)) >= 39 and any(g.strip() for g in gen_ours)
