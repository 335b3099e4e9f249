"""GRPO's rewards, the synth stage's checkers and held-out exact match are one definition
(`answer_checkers`): the same functions, so the reward a policy trains on is the verdict the data was
checked with. The verdicts themselves are tested in tests/answer_checkers/."""

import answer_checkers
from pipeline.synth import checkers
from trainer.eval import rewards


def test_rewards_and_synth_checkers_are_the_same_functions():
    for name in ("check", "final_answer", "reward", "answer_number"):
        assert getattr(rewards, name) is getattr(checkers, name) is getattr(answer_checkers, name)
    assert rewards.CHECKERS is checkers.CHECKERS


def test_reward_of_an_rl_record():
    record = {"checker": "arithmetic", "answer": "12", "tolerance": None}
    assert rewards.reward(record, "Answer: 12") == 1.0
    assert rewards.reward(record, "Answer: 13") == 0.0
    assert rewards.reward(record, "Answer: 12 13") == 0.0  # two numbers after the marker: no answer
