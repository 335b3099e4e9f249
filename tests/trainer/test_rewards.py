"""trainer/eval/rewards.py re-implements pipeline/synth/checkers.py (trainer/ may not import pipeline/):
both must give the same verdict on every case of this table, and the verdicts must be the right ones."""

import pytest

from pipeline.synth import checkers
from trainer.eval import rewards

# (checker, completion, answer, tolerance, expected verdict)
CASES = [
    ("arithmetic", "Answer: 42", "42", None, True),
    ("arithmetic", "I think 40.\nAnswer: 42.", "42", None, True),
    ("arithmetic", "answer：1,234", "1234", None, True),
    ("arithmetic", "Answer: 41", "42", None, False),
    ("arithmetic", "The result is 7 + 5 = 12", "12", None, True),  # no marker: last number of all
    ("arithmetic", "Answer: 12 then answer: 13", "12", None, False),  # the last marker wins
    ("arithmetic", "\\boxed{-17}", "-17", None, True),
    ("arithmetic", "Answer: 3.0000001", "3", None, True),
    ("arithmetic", "Answer: 3.1", "3", 0.2, True),
    ("arithmetic", "Answer: 3.1", "3", None, False),
    ("arithmetic", "Answer: none", "3", None, False),
    ("arithmetic", "", "3", None, False),
    ("arithmetic", "Answer: 1e3", "1000", None, True),
    ("arithmetic", "Answer: .5", "0.5", None, True),
    ("unit_conversion", "Answer: 1609.3 metres", "1609.344", None, True),
    ("unit_conversion", "Answer: 1500 metres", "1609.344", None, False),
    ("unit_conversion", "Answer: 100", "101", 0.02, True),
    ("unit_conversion", "Answer: 0", "0", None, True),
    ("unit_conversion", "Answer: about five", "5", None, False),
    ("fact_extraction", "Answer: The Eiffel Tower.", "eiffel tower", None, True),
    ("fact_extraction", "Answer: eiffel towers", "eiffel tower", None, False),  # whole words only
    ("fact_extraction", "Answer: 1,000 people", "1,000", None, True),
    ("fact_extraction", "Answer: 3.5", "3,5", None, False),
    ("fact_extraction", "Answer: ", "x", None, False),
    ("fact_extraction", "Answer: ＡＢＣ", "abc", None, True),  # NFKC folds full-width letters
    ("fact_extraction", "`Paris`", "paris", None, True),
    ("exact_match", "Answer: Xk9-qz", "Xk9-qz", None, True),
    ("exact_match", "Answer: xk9-qz", "Xk9-qz", None, False),  # case-sensitive
    ("exact_match", "Answer: 'Xk9-qz'.", " Xk9-qz ", None, True),
    ("exact_match", "the value is Xk9-qz", "Xk9-qz", None, False),
]


@pytest.mark.parametrize("checker, completion, answer, tolerance, expected", CASES)
def test_rewards_agree_with_the_synth_checkers(checker, completion, answer, tolerance, expected):
    ours = rewards.check(checker, completion, answer, tolerance)
    theirs = checkers.check(checker, completion, answer, tolerance)
    assert ours == theirs == expected


def test_final_answer_and_reward_agree_with_the_synth_stage():
    for _, completion, *_ in CASES:
        assert rewards.final_answer(completion) == checkers.final_answer(completion)
    record = {"checker": "arithmetic", "answer": "12", "tolerance": None}
    assert rewards.reward(record, "Answer: 12") == checkers.reward(record, "Answer: 12") == 1.0
    assert rewards.reward(record, "Answer: 13") == checkers.reward(record, "Answer: 13") == 0.0
    with pytest.raises(ValueError, match="unknown checker"):
        rewards.check("nope", "x", "x")
