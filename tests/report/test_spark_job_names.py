"""Spark jobs carry "<stage>: <step>" descriptions (what a user reads in the Spark UI's Jobs tab)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from pipeline.spark import job_step
from pipeline.stage import Stage, StageContext, StageResult


class _FakeContext:
    """Records the descriptions Spark would get; a local property store like SparkContext's."""

    def __init__(self):
        self.props: dict[str, str | None] = {}
        self.seen: list[str | None] = []

    def getLocalProperty(self, key):  # noqa: N802  (SparkContext's name)
        return self.props.get(key)

    def setJobDescription(self, value):  # noqa: N802
        self.props["spark.job.description"] = value
        self.seen.append(value)


class _FakeSpark:
    def __init__(self):
        self.sparkContext = _FakeContext()


class _FileStage(Stage):
    name = "probe-files"
    input_kind = "none"
    output_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        # the description while the stage computes is the one its Spark jobs get
        self.during = ctx.spark.sparkContext.getLocalProperty("spark.job.description")
        return StageResult(stats={"rows_out": 0}, rows_in=0)


def test_runner_names_the_step_a_stage_runs_in_and_restores_the_previous_name(tmp_path):
    from pipeline.config import load_config
    from pipeline.runner import _execute

    spark, stage = _FakeSpark(), _FileStage()
    spark.sparkContext.setJobDescription("outer")
    ctx = StageContext(spark=spark, config=load_config(None, []), settings=None, inputs=[],
                       output=str(tmp_path / "out"), run_id="r")
    _execute(stage, ctx, skip=False, started=time.time())
    assert stage.during == "probe-files: compute and write files"
    assert spark.sparkContext.props["spark.job.description"] == "outer"
    with pytest.raises(RuntimeError), job_step(spark, "s", "failing step"):
        raise RuntimeError("boom")
    assert spark.sparkContext.props["spark.job.description"] == "outer"  # restored after a failure too


@pytest.mark.slow
def test_job_step_descriptions_reach_the_spark_ui(spark):
    sc = spark.sparkContext
    if not sc.uiWebUrl:
        pytest.skip("Spark UI disabled in this session")
    with job_step(spark, "probe", "count rows"):
        spark.range(10).count()
    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/jobs"
    descriptions: set = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the UI learns of finished jobs asynchronously (listener bus)
        with urllib.request.urlopen(url, timeout=30) as resp:
            descriptions = {j.get("description") for j in json.load(resp)}
        if "probe: count rows" in descriptions:
            break
        time.sleep(0.5)
    assert "probe: count rows" in descriptions, descriptions
