"""Verifiable rewards for GRPO and held-out exact match: the one shared definition in `answer_checkers`
(the synth stage's self-check uses the same functions, so a reward cannot drift from the data's
checker). The rules are written out in `answer_checkers`' docstring: one final answer, parsed
strictly, compared exactly; a reply that lists numbers does not earn the reward of one of them.
"""

from answer_checkers import CHECKERS, DEFAULT_TOLERANCE, answer_number, check, final_answer, reward

__all__ = ["CHECKERS", "DEFAULT_TOLERANCE", "answer_number", "check", "final_answer", "reward"]
