"""Verifiable-answer checkers for RL items: the one shared definition in `answer_checkers`.

Every RL record (see `pipeline.synth.records`) stores `checker`, `answer` and `tolerance`;
`check(checker, completion, answer, tolerance)` says whether a completion is right. The rules are
written out in `answer_checkers`' docstring; GRPO's rewards and held-out exact match use the same
functions, so the synth self-check, the reward and the evaluation cannot disagree.
"""

from answer_checkers import (
    CHECKERS,
    DEFAULT_TOLERANCE,
    answer_number,
    check,
    final_answer,
    normalize_text,
    reward,
)

__all__ = ["CHECKERS", "DEFAULT_TOLERANCE", "answer_number", "check", "final_answer", "normalize_text", "reward"]
