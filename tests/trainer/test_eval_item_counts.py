"""An exact-match share of a handful of held-out items is noise: the evaluation table and the run
report print the item count and a warning beside it below 20 items, never a bare "0.000"."""

from pipeline.report.evaluation import exact_match_note
from trainer.eval.evaluate import markdown


def _report(items: int, em: float | None) -> dict:
    row = {"variant": "fp32", "token_perplexity": 12.5, "exact_match": em, "exact_match_items": items,
           "decode_tokens_per_s": 100.0, "peak_memory_bytes": None, "model_bytes": 1000}
    return {"model": "m", "tokens_dir": "t", "variants": [row]}


def test_markdown_warns_below_twenty_items():
    few = markdown(_report(2, 0.0))
    assert "0.000 (2) ⚠ too few items (< 20) to compare" in few
    enough = markdown(_report(25, 0.4))
    assert "0.400 (25) |" in enough and "too few" not in enough
    assert "- (0) ⚠" in markdown(_report(0, None))


def test_run_report_note_beside_the_number():
    assert exact_match_note(0) == "no held-out items: no exact match"
    assert "only 19 held-out items" in exact_match_note(19)
    assert exact_match_note(20) == ""
