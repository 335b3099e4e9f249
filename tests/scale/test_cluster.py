"""A Spark standalone cluster (master + two workers from pyspark's spark-class) runs two stages and writes
what local mode writes (issue 21). The stages run in a child process: this one's session is local[2]."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest

from tests.mix.docs_fixture import write_documents


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _docs() -> list[dict]:
    base = [" ".join(f"w{(i * 7 + k * 13) % 400}" for k in range(80)) for i in range(60)]
    rows = [{"id": f"d{i:03d}", "text": t} for i, t in enumerate(base)]
    rows += [{"id": f"e{i:03d}", "text": "  " + t.upper() + "\u00a0"} for i, t in enumerate(base[:20])]  # normalize
    rows += [{"id": f"x{i:03d}", "text": t} for i, t in enumerate(base[:15])]  # exact copies
    return rows


def _rows(spark, path) -> list[tuple[str, str]]:
    return sorted((r["id"], r["text"]) for r in spark.read.parquet(str(path)).select("id", "text").collect())


@pytest.mark.slow
def test_two_stages_on_a_standalone_cluster_match_local(spark, tmp_path, data_root, run_stage_in):
    from pipeline.cluster import ClusterConfig, start, stop

    src = write_documents(spark, tmp_path / "in", _docs())
    run_stage_in("normalize", [src], tmp_path / "local" / "normalize")
    run_stage_in("dedup-exact", [tmp_path / "local" / "normalize"], tmp_path / "local" / "dedup")

    cfg = ClusterConfig(workers=2, cores=1, memory="1g", port=_free_port(), webui_port=_free_port(),
                        state=tmp_path / "cluster")
    script = textwrap.dedent(f"""
        import json
        from pipeline.config import load_config
        from pipeline.runner import run_stage
        from pipeline.spark import get_spark
        cfg = load_config(None, ["run.data_root={data_root}", "spark.master={cfg.url}", "spark.driver_memory=1g"])
        spark = get_spark(cfg.spark)
        run_stage("normalize", ["{src}"], "{tmp_path}/cluster-out/normalize", cfg, spark=spark)
        run_stage("dedup-exact", ["{tmp_path}/cluster-out/normalize"], "{tmp_path}/cluster-out/dedup", cfg, spark=spark)
        print(json.dumps({{"master": spark.sparkContext.master,
                          "executors": spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size()}}))
        spark.stop()
    """)
    try:
        start(cfg, timeout=240)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        stopped = stop(cfg)
    assert len(stopped) == 3 and not list(cfg.state.glob("*.pid"))
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["master"] == cfg.url and info["executors"] == 3  # the driver and one executor per worker
    for stage in ("normalize", "dedup"):
        assert _rows(spark, tmp_path / "cluster-out" / stage) == _rows(spark, tmp_path / "local" / stage)
    assert len(_rows(spark, tmp_path / "local" / "dedup")) < len(_docs())  # the copies went
