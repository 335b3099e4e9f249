"""Ingest source code from git repositories or archives with The Stack/StarCoder file filters."""

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class IngestGithubConfig:
    urls: list[str] = field(default_factory=list)  # repository URLs, added to --input
    languages: list[str] = field(default_factory=list)  # empty: every language the filters know
    # The Stack (Kocetkov et al. 2022): permissive licences only; see pipeline.github.license.
    allowed_licenses: list[str] = field(default_factory=lambda: list(_permissive()))
    allow_unknown_license: bool = False  # The Stack drops repos without a detected licence
    max_file_bytes: int = 1_000_000  # The Stack v1: files over 1 MB removed
    max_line_length: int = 1000  # Codex (Chen et al. 2021) §3.1
    max_mean_line_length: float = 100.0  # Codex §3.1
    min_alnum_fraction: float = 0.25  # Codex §3.1
    clone_timeout_s: float = 300.0
    max_repo_bytes: int = 1 << 30  # a checkout (or archive) above 1 GiB is skipped, not truncated
    allow_empty: bool = False  # no repository in the input is an error unless a user asks for an empty run


def _permissive() -> list[str]:
    from pipeline.github.license import PERMISSIVE

    return PERMISSIVE


def repo_locators(inputs: list[str]) -> list[str]:
    """Each input is a repo URL, a checkout, an archive, or a folder of checkouts/archives."""
    from pipeline.github.repos import ARCHIVE_SUFFIXES, is_remote
    from pipeline.storage import local_path

    out = []
    for item in inputs:
        path = local_path(item) if not is_remote(item) else None
        if path is not None and path.is_dir() and not (path / ".git").exists():
            children = sorted(path.iterdir())
            if not children:  # an empty folder holds no repository
                continue
            if any((c / ".git").exists() or c.name.endswith(ARCHIVE_SUFFIXES) for c in children):
                out += [str(c) for c in children if (c / ".git").exists() or c.name.endswith(ARCHIVE_SUFFIXES)]
                continue
        out.append(str(path) if path is not None else item)
    return out


class IngestGithub(Stage):
    name = "ingest-github"
    config_class = IngestGithubConfig
    input_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from pipeline.errors import UsageError
        from pipeline.github.filters import CodeFilterConfig
        from pipeline.github.rows import ROW_SCHEMA, RepoPolicy, repo_rows, rows_frame
        from pipeline.rejects import error_reason

        s = ctx.settings
        policy = RepoPolicy(
            filters=CodeFilterConfig(languages=s.languages, max_file_bytes=s.max_file_bytes,
                                     max_line_length=s.max_line_length,
                                     max_mean_line_length=s.max_mean_line_length,
                                     min_alnum_fraction=s.min_alnum_fraction),
            allowed_licenses=tuple(s.allowed_licenses), allow_unknown_license=s.allow_unknown_license,
            clone_timeout_s=s.clone_timeout_s, max_repo_bytes=s.max_repo_bytes)
        locators = repo_locators([*ctx.inputs, *s.urls])
        if not locators and not s.allow_empty:
            raise UsageError("ingest-github: no repositories in the input; "
                             "set ingest-github.allow_empty=true for an empty run")

        def ingest(batches):
            for pdf in batches:
                for locator in pdf["locator"]:
                    try:
                        rows = repo_rows(locator, policy)
                    except Exception as exc:  # noqa: BLE001 - one hostile repository must not stop the job
                        rows = [{"repo": locator, "reject_kind": "repo_skipped", "reject_reason": error_reason(exc),
                                 "reject_count": 1}]
                    yield rows_frame(rows)

        items = ctx.spark.createDataFrame([(loc,) for loc in locators], "locator string")
        rows = items.repartition(max(1, min(len(locators), 64))).mapInPandas(ingest, ROW_SCHEMA).cache()
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        metadata = F.to_json(F.struct("repo", "path", "language", "license", "commit"))
        docs = rows.filter(F.col("reject_kind").isNull()).select(
            "id", "text", F.lit("github").alias("source"), "url", F.col("path").alias("title"),
            F.lit(None).cast("string").alias("lang"), F.lit(None).cast("double").alias("lang_score"),
            F.lit(fetched_at).alias("fetched_at"), metadata.alias("metadata"))
        # The same repository listed twice gives the same ids: keep one.
        docs = docs.withColumn("_n", F.row_number().over(Window.partitionBy("id").orderBy("text"))) \
            .filter("_n = 1").drop("_n")
        rejected = rows.filter(F.col("reject_kind").isNotNull() & (F.col("reject_kind") != "repo_license")) \
            .select("reject_kind", "reject_reason", "reject_count", "repo", "path", "license")
        counts: dict[str, dict[str, int]] = {"repo_skipped": {}, "file_dropped": {}, "refused": {},
                                             "repo_license": {}, "document": {}}
        n = F.when(F.col("reject_kind").isNull(), F.lit(1)).otherwise(F.col("reject_count"))
        for r in rows.groupBy("reject_kind", "reject_reason").agg(F.sum(n).alias("n")).collect():
            counts[r["reject_kind"] or "document"][r["reject_reason"] or "files"] = int(r["n"])
        n_docs = counts["document"].get("files", 0)  # before the duplicate-id drop
        return StageResult(
            documents=docs, rows_in=n_docs + sum(counts["file_dropped"].values()),
            side_outputs={"rejected": rejected},
            stats={"repos": len(locators), "repos_ingested": sum(counts["repo_license"].values()),
                   "licenses": counts["repo_license"], "repos_skipped": counts["repo_skipped"],
                   "files_kept": n_docs, "files_dropped": counts["file_dropped"],
                   "refused": counts["refused"]})


STAGE = IngestGithub()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
