"""answer_checkers: one final answer, parsed strictly. Adversarial replies that a lenient "contains
the number" checker accepts must score 0; honest formats must still score 1."""

import pytest

from answer_checkers import answer_number, check, final_answer, numbers, reward

# (checker, completion, expected answer, tolerance, verdict)
CASES = [
    # honest formats
    ("arithmetic", "Answer: 42", "42", None, True),
    ("arithmetic", "I think 40.\nAnswer: 42.", "42", None, True),
    ("arithmetic", "answer：1,234", "1234", None, True),
    ("arithmetic", "Natalia sold 48/2 = 24 clips in May.\n#### 72", "72", None, True),  # GSM8K marker
    ("arithmetic", "The result is 7 + 5 = 12", "12", None, True),  # no marker: the last number
    ("arithmetic", "\\boxed{-17}", "-17", None, True),
    ("arithmetic", "Answer: −17", "-17", None, True),  # U+2212 minus
    ("arithmetic", "Answer: **$1,204**", "1204", None, True),
    ("arithmetic", "Answer: 3.0000001", "3", None, True),
    ("arithmetic", "Answer: 3.1", "3", 0.2, True),
    ("arithmetic", "Answer: 1e3", "1000", None, True),
    ("arithmetic", "Answer: .5", "0.5", None, True),
    ("arithmetic", "Answer: 42\nBecause 6 * 7 = 42 and 2 + 2 = 4.", "42", None, True),  # later lines ignored
    ("unit_conversion", "Answer: 1609.3 metres", "1609.344", None, True),
    ("unit_conversion", "Answer: 5kg", "5", None, True),
    ("fact_extraction", "Answer: The Eiffel Tower.", "eiffel tower", None, True),
    ("fact_extraction", "Answer: 1,000 people", "1,000", None, True),
    ("fact_extraction", "Answer: ＡＢＣ", "abc", None, True),  # NFKC folds full-width letters
    ("fact_extraction", "`Paris`", "paris", None, True),
    ("exact_match", "Answer: Xk9-qz", "Xk9-qz", None, True),
    ("exact_match", "Answer: 'Xk9-qz'.", " Xk9-qz ", None, True),
    # adversarial: several numbers, the number inside a longer one, units, trailing text
    ("fact_extraction", "Answer: 7 1,204 9 10", "1,204", None, False),
    ("arithmetic", "Answer: 7 1,204 9 10", "1204", None, False),
    ("arithmetic", "Answer: 11204", "1204", None, False),
    ("arithmetic", "Answer: 1,2045", "1204", None, False),  # malformed, not "1,204" + "5"
    ("arithmetic", "Answer: 12045", "1204", None, False),
    ("arithmetic", "Answer: 1204.5", "1204", None, False),
    ("arithmetic", "Answer: 42 or 43", "42", None, False),
    ("arithmetic", "Answer: 42 apples, then 17 more", "42", None, False),  # trailing text with a number
    ("arithmetic", "Answer: 12 then answer: 13", "12", None, False),  # the last marker wins
    ("arithmetic", "#### 12\nAnswer: 13", "12", None, False),
    ("arithmetic", "Answer: none", "3", None, False),
    ("arithmetic", "", "3", None, False),
    ("unit_conversion", "Answer: 1609 metres or 1 mile", "1609.344", None, False),
    ("unit_conversion", "Answer: 1500 metres", "1609.344", None, False),
    ("unit_conversion", "Answer: about five", "5", None, False),
    ("fact_extraction", "Answer: Paris, France", "paris", None, False),  # no containment
    ("fact_extraction", "Answer: eiffel towers", "eiffel tower", None, False),
    ("fact_extraction", "Answer: 3.5", "3,5", None, False),
    ("fact_extraction", "Answer: ", "x", None, False),
    ("exact_match", "Answer: xk9-qz", "Xk9-qz", None, False),  # case-sensitive
    ("exact_match", "the value is Xk9-qz", "Xk9-qz", None, False),
    ("exact_match", "Answer: Xk9-qz Xk9-qa", "Xk9-qz", None, False),
]


@pytest.mark.parametrize("checker, completion, answer, tolerance, expected", CASES)
def test_verdicts(checker, completion, answer, tolerance, expected):
    assert check(checker, completion, answer, tolerance) is expected


def test_the_issue_example_scores_zero():
    record = {"checker": "fact_extraction", "answer": "1,204", "tolerance": None}
    assert reward(record, "Answer: 7 1,204 9 10") == 0.0
    assert reward(record, "Answer: 1,204") == 1.0


def test_number_runs_are_maximal_and_validated():
    assert numbers("1,204 and 1,2045 and v1.2 and 3.") == [1204.0, None, 3.0]
    assert answer_number("Answer: 7 8") is None  # two numbers after the marker
    assert answer_number("7 then 8") == 8.0  # no marker: the last one
    assert final_answer("So...\nAnswer: **Paris**.\nDone.") == "Paris"


def test_unknown_checker_is_refused():
    with pytest.raises(ValueError, match="unknown checker"):
        check("nope", "x", "x")
