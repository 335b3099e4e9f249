"""One repository (URL, local checkout or archive) -> document rows plus counted drops.

Runs inside a Spark task. Row kinds besides documents: `repo_skipped` (licence, clone failure),
`file_dropped` (a file filter's reason), `refused` (an unsafe archive member) and `repo_license`
(one per ingested repository, for the licence histogram in the stats).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.archive_safety import ArchiveLimits, Refusals
from pipeline.github.filters import CodeFilterConfig, file_reject_reason, language_of, path_reject_reason
from pipeline.github.license import PERMISSIVE, is_license_file, license_allowed, repo_license
from pipeline.github.repos import (
    ARCHIVE_SUFFIXES,
    CloneError,
    RepoFile,
    archive_files,
    clone,
    head_commit,
    is_remote,
    repo_name,
    walk_tree,
)
from pipeline.schema import document_id

ROW_SCHEMA = ("id string, url string, text string, repo string, path string, language string, "
              "license string, commit string, reject_kind string, reject_reason string, reject_count long")
ROW_COLUMNS = [c.split()[0] for c in ROW_SCHEMA.split(", ")]


@dataclass(frozen=True)
class RepoPolicy:
    filters: CodeFilterConfig = field(default_factory=CodeFilterConfig)
    allowed_licenses: tuple[str, ...] = tuple(PERMISSIVE)
    allow_unknown_license: bool = False  # The Stack keeps only repos with a detected permissive licence
    clone_timeout_s: float = 300.0
    max_repo_bytes: int = 1 << 30
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)


def _repo_row(repo: str, kind: str, reason: str, n: int = 1, license_: str | None = None) -> dict[str, Any]:
    return {"repo": repo, "license": license_, "reject_kind": kind, "reject_reason": reason, "reject_count": n}


def _top_level_texts(files: list[RepoFile]) -> dict[str, str]:
    return {f.path: f.data.decode("utf-8", "replace") for f in files if is_license_file(f.path) and f.data}


def _tree_license(root: Path) -> str | None:
    texts = {}
    for name in sorted(os.listdir(root)):
        full = root / name
        if is_license_file(name) and full.is_file() and not full.is_symlink():
            texts[name] = full.read_bytes()[:200_000].decode("utf-8", "replace")
    return repo_license(texts)


def file_url(repo: str, commit: str | None, path: str) -> str:
    return f"{repo}/blob/{commit or 'HEAD'}/{path}"


def _file_rows(repo: str, commit: str | None, license_: str | None, files, policy: RepoPolicy):
    rows = []
    for f in files:
        if f.path.startswith(".git/"):
            continue
        if f.data is None:
            reason, text = path_reject_reason(f.path, f.size, policy.filters) or "too_large", None
        else:
            reason, text = file_reject_reason(f.path, f.data, policy.filters)
        if reason:
            rows.append({**_repo_row(repo, "file_dropped", reason, 1, license_), "path": f.path})
            continue
        url = file_url(repo, commit, f.path)
        rows.append({"id": document_id("github", url), "url": url, "text": text, "repo": repo, "path": f.path,
                     "language": language_of(f.path), "license": license_, "commit": commit})
    rows.append(_repo_row(repo, "repo_license", license_ or "unknown", 1, license_))
    return rows


def repo_rows(locator: str, policy: RepoPolicy) -> list[dict[str, Any]]:
    """All rows for one repository locator."""
    if is_remote(locator) and not locator.startswith("file://"):
        repo = repo_name(locator) if "://" not in locator else locator.removesuffix(".git").rstrip("/")
    else:
        repo = repo_name(locator)
    allowed = list(policy.allowed_licenses)
    with tempfile.TemporaryDirectory(prefix="ingest-github-") as tmp:
        try:
            if is_remote(locator):
                root = Path(tmp) / "repo"
                clone(locator, root, policy.clone_timeout_s, policy.max_repo_bytes)
            elif locator.endswith(ARCHIVE_SUFFIXES):
                if os.path.getsize(locator) > policy.max_repo_bytes:
                    return [_repo_row(repo, "repo_skipped", "repo_too_large")]
                refusals = Refusals()
                with open(locator, "rb") as f:
                    files = archive_files(f.read(), policy.limits, refusals)
                refused = [_repo_row(repo, "refused", r, n) for r, n in sorted(refusals.items())]
                license_ = repo_license(_top_level_texts(files))
                if not license_allowed(license_, allowed, policy.allow_unknown_license):
                    return [*refused, _repo_row(repo, "repo_skipped", "license_not_allowed", 1, license_)]
                return refused + _file_rows(repo, None, license_, files, policy)
            else:
                root = Path(locator.removeprefix("file://"))
                if not root.is_dir():
                    return [_repo_row(repo, "repo_skipped", "unreadable")]
        except CloneError as exc:
            return [_repo_row(repo, "repo_skipped", exc.reason)]
        except OSError:
            return [_repo_row(repo, "repo_skipped", "unreadable")]
        license_ = _tree_license(root)
        if not license_allowed(license_, allowed, policy.allow_unknown_license):
            return [_repo_row(repo, "repo_skipped", "license_not_allowed", 1, license_)]
        commit = head_commit(root) if (root / ".git").exists() else None
        return _file_rows(repo, commit, license_, walk_tree(root, policy.filters.max_file_bytes), policy)


def rows_frame(rows: list[dict[str, Any]]):
    import pandas as pd

    out = pd.DataFrame(rows, columns=ROW_COLUMNS).astype(object)
    out["reject_count"] = pd.to_numeric(out["reject_count"], errors="coerce").fillna(0).astype("int64")
    return out
