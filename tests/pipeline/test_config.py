from dataclasses import dataclass, field

import pytest

from pipeline.config import build, load_config, parse_override
from pipeline.errors import UsageError


@dataclass
class Thresholds:
    min_words: int = 50
    max_ratio: float = 0.1
    langs: list[str] = field(default_factory=lambda: ["en"])
    model: str | None = None


def test_defaults_come_from_the_dataclasses():
    cfg = load_config()
    assert cfg.spark.master == "local[*]"
    assert cfg.stage_config("filter", Thresholds) == Thresholds()


def test_yaml_then_set_overrides_with_types(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("spark: {master: 'local[2]'}\nstages: {filter: {min_words: 10, langs: [en, zh]}}\n")
    cfg = load_config(path, ["filter.max_ratio=0.25", "filter.min_words=12", "run.seed=7"])
    t = cfg.stage_config("filter", Thresholds)
    assert (t.min_words, t.max_ratio, t.langs) == (12, 0.25, ["en", "zh"])
    assert cfg.spark.master == "local[2]" and cfg.run.seed == 7


def test_int_is_accepted_for_a_float_but_not_the_reverse():
    assert build(Thresholds, {"max_ratio": 1}, "t").max_ratio == 1.0
    with pytest.raises(UsageError, match="min_words"):
        build(Thresholds, {"min_words": 0.5}, "t")


@pytest.mark.parametrize("bad, message", [
    (["spark.nope=1"], "unknown key"),
    (["filter.min_words=abc"], "expected int"),
    (["novalue"], "key=value"),
    (["master=local"], "section.key"),
])
def test_bad_overrides_are_clear_errors(bad, message):
    with pytest.raises(UsageError, match=message):
        cfg = load_config(None, bad)
        cfg.stage_config("filter", Thresholds)


def test_missing_and_invalid_config_files(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("spark: [unclosed\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_config(bad)


def test_override_values_keep_yaml_types():
    assert parse_override("a.b=0.8") == (["a", "b"], 0.8)
    assert parse_override("a.b=true") == (["a", "b"], True)
    assert parse_override("a.b=local[*]") == (["a", "b"], "local[*]")


def test_spark_master_env_applies_unless_config_sets_it(monkeypatch):
    monkeypatch.setenv("SPARK_MASTER", "spark://m:7077")
    assert load_config().spark.master == "spark://m:7077"
    assert load_config(None, ["spark.master=local[1]"]).spark.master == "local[1]"


@pytest.mark.parametrize("override, named", [
    ("dedup_minhash.threshold=0.7", "dedup-minhash"),  # underscore for dash: not silently the default
    ("dedup-exactt.hash_bits=64", "dedup-exact"),
])
def test_a_misspelt_stage_section_is_refused_naming_the_stage(override, named):
    with pytest.raises(UsageError, match=f"unknown stage.*did you mean {named}\\?") as e:
        load_config(None, [override])
    assert "\n" not in str(e.value)


def test_an_unknown_stage_section_in_yaml_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("stages: {normalise: {form: NFC}}\n")
    with pytest.raises(UsageError, match="normalise.*did you mean normalize"):
        load_config(path)


def test_invalid_yaml_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("spark:\n  master: [unclosed\nrun: {a: 1\n")
    with pytest.raises(UsageError, match="not valid YAML") as e:
        load_config(bad)
    assert "\n" not in str(e.value) and "line" in str(e.value)


def test_the_pipeline_cli_refuses_a_misspelt_stage_with_status_2(capsys):
    from pipeline.cli import main

    assert main(["dedup-minhash", "--input", "x", "--output", "y", "--set", "dedup_minhash.threshold=0.7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "dedup-minhash" in err
