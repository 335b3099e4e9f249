"""Every stage in `python -m pipeline --help`, run against the hostile input that fits it.

Each ends with exit 0 (bad records set aside and counted by reason in `_stats.json`) or exit 2
(exactly one line on stderr, no traceback). Stages run in-process through the CLI's `main` on the
shared SparkSession (one JVM for all of them). A stage added without a case here fails
`test_every_stage_has_a_hostile_case`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline import registry
from pipeline.cli import main
from tests.hostile import corpus


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]  # writes the input under a folder, returns the --input path
    exit_code: int
    rejected: dict[str, int] = field(default_factory=dict)  # expected `_stats.json` counts (exit 0)
    stats_key: str = "rejected"
    message: str = ""  # expected in the one stderr line (exit 2)
    overrides: tuple[str, ...] = ()


def _empty(name: str) -> Callable[[Path], Path]:
    return lambda folder: corpus.empty_inputs(folder)[name]


BAD_ROWS = Case("null_and_non_utf8_rows", corpus.documents_with_bad_rows, 0, corpus.BAD_DOCUMENT_REASONS)
SUCCESS_ONLY = Case("success_only", corpus.success_only, 2, message="holds no Parquet part files")
NON_PARQUET = Case("non_parquet_part", corpus.non_parquet_part, 2, message="is not a Parquet file")
DOCUMENT_CASES = (BAD_ROWS, SUCCESS_ONLY, NON_PARQUET)


def _eval_items(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "eval.jsonl"
    path.write_text(json.dumps({"question": "What did the committee review on Tuesday?"}) + "\n")
    return str(path)


CASES: dict[str, tuple[Case, ...]] = {
    "ingest-jsonl": (
        Case("hostile_lines", corpus.jsonl_file, 0, {r: 1 for r in corpus.hostile_lines()},
             overrides=("ingest-jsonl.max_line_bytes=250000",)),
        Case("truncated_gzip", corpus.truncated_jsonl_gz, 0, {"truncated_gzip": 1}),
        Case("empty_dir", _empty("empty_dir"), 2, message="no records"),
        Case("empty_file", _empty("empty_file"), 2, message="no records"),
        Case("blank_lines", _empty("blank_lines"), 2, message="no records"),
        Case("empty_allowed", _empty("blank_lines"), 0, overrides=("ingest-jsonl.allow_empty=true",)),
    ),
    "ingest-warc": (
        Case("empty_warc_gz", _empty("empty_warc_gz"), 2, message="no WARC records"),
        Case("zero_byte_warc_gz", _empty("zero_byte_warc_gz"), 2, message="no WARC records"),
        Case("empty_dir", _empty("empty_dir"), 2, message="no WARC/WET files"),
        Case("empty_allowed", _empty("empty_warc_gz"), 0, overrides=("ingest-warc.allow_empty=true",)),
    ),
    "ingest-arxiv": (
        Case("truncated_gzip", corpus.truncated_arxiv, 0, {"truncated_archive": 2}, stats_key="refused"),
        Case("empty_dir", _empty("empty_dir"), 2, message="no paper sources"),
    ),
    "ingest-books": (
        Case("truncated_gzip", corpus.truncated_books, 0, {"truncated_archive": 1}, stats_key="refused"),
        Case("empty_dir", _empty("empty_dir"), 2, message="no book files"),
    ),
    "ingest-github": (
        Case("truncated_archive", corpus.github_inputs, 0, {"corrupt_archive": 1}, stats_key="refused"),
        Case("empty_dir", _empty("empty_dir"), 2, message="no repositories"),
    ),
    "crawl": (
        Case("non_utf8_seeds", corpus.seeds_file, 2, message="seed file is not UTF-8"),
    ),
    "extract": (
        Case("non_utf8_and_null_html", corpus.warc_table_with_bad_rows, 0, {"invalid_utf8": 1, "empty_html": 1}),
        SUCCESS_ONLY, NON_PARQUET,
    ),
    "decontaminate": tuple(
        Case(c.name, c.build, c.exit_code, c.rejected, message=c.message,
             overrides=("decontaminate.eval_path={tmp}/eval/eval.jsonl",)) for c in DOCUMENT_CASES),
    # Weak labels need five confident documents per domain: the hostile set has none (one line, exit 2).
    "train-domain": (Case("null_and_non_utf8_rows", corpus.documents_with_bad_rows, 2,
                          message="needs at least two labels"), SUCCESS_ONLY, NON_PARQUET),
    # A model trained (on the same hostile set) by train-quality first; see test_stage_on_hostile_input.
    "quality": tuple(Case(c.name, c.build, c.exit_code, c.rejected, message=c.message,
                          overrides=("quality.model={tmp}/train-quality-model/model.bin",))
                     for c in DOCUMENT_CASES),
}
for _stage in registry.stage_names():  # every other stage reads documents
    if not _stage.startswith("ingest-"):
        CASES.setdefault(_stage, DOCUMENT_CASES)

# (stage, case) -> why a stage does not meet the contract yet: an xfail that turns into a failure once fixed
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def test_every_stage_has_a_hostile_case():
    assert sorted(CASES) == registry.stage_names()


def _params():
    for stage in sorted(CASES):
        for case in CASES[stage]:
            gap = KNOWN_GAPS.get((stage, case.name))
            # strict: once the gap is closed the test passes, xfail turns into a failure, drop the entry
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            yield pytest.param(stage, case, marks=marks, id=f"{stage}-{case.name}")


@pytest.mark.slow
@pytest.mark.parametrize("stage, case", list(_params()))
def test_stage_on_hostile_input(stage, case, spark, data_root, tmp_path, capsys):
    path = case.build(tmp_path / "in")
    _eval_items(tmp_path / "eval")
    if stage == "quality":  # the model must exist, or the stage stops on that before reading its input
        model_dir = tmp_path / "train-quality-model"
        docs = corpus.documents_with_bad_rows(tmp_path / "train-docs")
        assert main(["train-quality", "--input", str(docs), "--output", str(model_dir)]) == 0
    out = data_root / "hostile" / stage
    overrides = [o.replace("{tmp}", str(tmp_path)) for o in case.overrides]
    capsys.readouterr()
    code = main([stage, "--input", str(path), "--output", str(out),
                 *[arg for o in overrides for arg in ("--set", o)]])
    err = capsys.readouterr().err
    assert code == case.exit_code, err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and case.message in lines[0], err
        assert not out.exists()
        return
    assert "Traceback" not in err
    stats = json.loads((out / "_stats.json").read_text())
    got = stats.get(case.stats_key) or {}
    assert {r: got.get(r) for r in case.rejected} == case.rejected, stats
    if case.rejected and case.stats_key == "rejected":
        assert (out / "_rejected").is_dir()
