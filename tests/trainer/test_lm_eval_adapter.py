"""trainer/eval/lm_eval_adapter.py: the harness's three requests on our model, and tiny local YAML tasks
over local JSONL files run end to end through lm_eval.simple_evaluate (no network, no hub)."""

import json
import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # before datasets is imported: local files only
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from tests.trainer.tiny_lm import one_thread, trained_model  # noqa: E402
from trainer.eval.lm_eval_adapter import PipelineLM  # noqa: E402

pytestmark = pytest.mark.usefixtures(one_thread.__name__)


class Req:
    def __init__(self, *args):
        self.args = args


@pytest.fixture(scope="module")
def lm(token_dir):
    return PipelineLM(model=trained_model(token_dir), tokenizer=Tokenizer.from_file(str(token_dir / "tokenizer.json")),
                      batch_size=4)


def test_loglikelihood_is_the_sum_of_token_logprobs(lm):
    ctx, cont = lm.tok_encode("The cat sees"), lm.tok_encode("The cat sees the red ball")[len(lm.tok_encode("The cat sees")):]
    (lp, greedy), (lp_short, _) = lm.loglikelihood([Req("The cat sees", " the red ball"), Req("The cat", " sees")])
    with torch.no_grad():
        logits = lm.model(torch.tensor([ctx + cont[:-1]])).log_softmax(-1)[0]
    expected = sum(float(logits[len(ctx) - 1 + i, t]) for i, t in enumerate(cont))
    assert lp == pytest.approx(expected, abs=1e-4) and lp < 0 and lp_short < 0
    assert isinstance(greedy, bool)


def test_rolling_loglikelihood_scores_every_token_once(lm):
    text = "A dog likes a wooden boat near the station. " * 6  # longer than max_seq_len 64: several windows
    ids = lm.tok_encode(text)
    assert len(ids) > lm.max_length
    (total,) = lm.loglikelihood_rolling([Req(text)])
    with torch.no_grad():  # the first window alone, scored directly: a lower bound on the total's magnitude
        first = lm.model(torch.tensor([[lm.eot_token_id] + ids[: lm.max_length - 1]])).log_softmax(-1)[0]
    first_sum = float(first.gather(-1, torch.tensor(ids[: lm.max_length])[:, None]).sum())
    assert total < first_sum < 0


def test_generate_until_stops_at_the_stop_string(lm):
    (free,) = lm.generate_until([Req("The cat sees", {"max_gen_toks": 16})])
    (cut,) = lm.generate_until([Req("The cat sees", {"until": ["."], "max_gen_toks": 16})])
    assert cut == free.split(".")[0] and "." not in cut


def write_tasks(root):
    docs = [("The cat sees the red ball", " in the morning.", " ball ball ball the the."),
            ("My sister feeds the tall tree", " by the sea.", " sees sees a a."),
            ("The pilot builds a long letter", " at night.", " letter the the letter."),
            ("A child remembers the blue door", " on the hill.", " door door a the.")]
    mc = root / "mc.jsonl"
    mc.write_text("".join(json.dumps({"context": c, "choices": [good, bad], "label": 0}) + "\n" for c, good, bad in docs))
    text = root / "text.jsonl"
    text.write_text("".join(json.dumps({"text": c + good}) + "\n" for c, good, _ in docs))
    (root / "tiny_mc.yaml").write_text(f"""
task: tiny_local_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {mc}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: choices
doc_to_target: label
metric_list:
  - metric: acc
""")
    (root / "tiny_gen.yaml").write_text(f"""
task: tiny_local_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {mc}
test_split: test
output_type: generate_until
doc_to_text: "{{{{context}}}}"
doc_to_target: "{{{{choices[0]}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 8
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
""")
    (root / "tiny_text.yaml").write_text(f"""
task: tiny_local_text
dataset_path: json
dataset_kwargs:
  data_files:
    test: {text}
test_split: test
output_type: loglikelihood_rolling
doc_to_text: ""
doc_to_target: "{{{{text}}}}"
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
""")


def test_tiny_local_yaml_tasks_run_through_the_harness(lm, tmp_path):
    import lm_eval
    from lm_eval.tasks import TaskManager

    write_tasks(tmp_path)
    results = lm_eval.simple_evaluate(model=lm, tasks=["tiny_local_mc", "tiny_local_gen", "tiny_local_text"],
                                      task_manager=TaskManager(include_path=str(tmp_path), include_defaults=False),
                                      limit=None, log_samples=False)["results"]
    assert results["tiny_local_mc"]["acc,none"] >= 0.75  # grammatical endings beat word salad
    assert 0.0 <= results["tiny_local_gen"]["exact_match,none"] <= 1.0
    assert 1.0 < results["tiny_local_text"]["byte_perplexity,none"] < 256
