"""The ingest-github stage end to end on a local git repo (cloned over file://) and archives."""

import json
import subprocess

import pytest

from pipeline.dataset import read_stats
from pipeline.sample.github.build import build


@pytest.mark.slow
def test_clone_filter_and_license_skip(spark, run_stage_in, data_root, mit_repo, gpl_repo, tmp_path):
    archives = tmp_path / "archives"
    archives.mkdir()
    build(archives)
    out = data_root / "r1" / "ingest-github"
    summary = run_stage_in("ingest-github", [f"file://{mit_repo}", gpl_repo, archives / "copyleft-tool.tar.gz"],
                           out)
    docs = {r["title"]: r.asDict() for r in spark.read.parquet(str(out)).collect()}
    assert sorted(docs) == ["README.md", "cmd/main.go", "src/tokenizer.py", "src/vocab.py"]
    commit = subprocess.run(["git", "-C", str(mit_repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    meta = json.loads(docs["src/tokenizer.py"]["metadata"])
    assert meta == {"repo": "tiny-tokenizer", "path": "src/tokenizer.py", "language": "python",
                    "license": "MIT", "commit": commit}
    assert docs["src/tokenizer.py"]["source"] == "github"
    assert docs["src/tokenizer.py"]["url"] == f"tiny-tokenizer/blob/{commit}/src/tokenizer.py"
    stats = read_stats(str(out))
    assert stats["files_dropped"] == {"vendored": 2, "minified": 1, "max_line_length": 1, "auto_generated": 1,
                                      "language_not_allowed": 2}
    assert stats["repos_skipped"] == {"license_not_allowed": 2}  # the GPL checkout and the GPL archive
    assert stats["licenses"] == {"MIT": 1} and stats["repos_ingested"] == 1
    assert summary.rows_out == 4
    dropped = {r["path"]: r["reject_reason"] for r in spark.read.parquet(str(out / "_rejected")).collect()
               if r["path"]}
    assert dropped["web/app.min.js"] == "minified" and dropped["src/table.py"] == "max_line_length"
    assert dropped["node_modules/left-pad/index.js"] == "vendored"
