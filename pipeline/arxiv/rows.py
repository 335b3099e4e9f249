"""One arXiv source (a bulk tar, a paper payload on disk, or fetched bytes) -> output rows.

Runs inside a Spark task: each source yields document rows and reject rows (a content reason
or an archive refusal with its count), so a hostile file is counted, never raised.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pipeline.archive_safety import ArchiveLimits, Refusals
from pipeline.arxiv.bundle import is_bundle, iter_bundle, parse_paper
from pipeline.schema import document_id

ROW_SCHEMA = ("id string, url string, text string, arxiv_id string, version string, title string, "
              "main_file string, source_file string, categories string, primary_category string, "
              "missing_inputs string, reject_kind string, reject_reason string, reject_count long")
ROW_COLUMNS = [c.split()[0] for c in ROW_SCHEMA.split(", ")]


def abs_url(arxiv_id: str, version: str | None) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}{version or ''}"


def _paper_rows(name: str, payload: bytes, locator: str, limits: ArchiveLimits,
                api_meta: dict[str, Any]) -> list[dict[str, Any]]:
    refusals = Refusals()
    paper, reason = parse_paper(name, payload, limits, refusals)
    rows = _refusal_rows(refusals, locator)
    if paper is None:
        # A refused payload is already counted as a refusal; do not count it twice.
        if reason not in refusals:
            rows.append({"source_file": locator, "reject_kind": "rejected", "reject_reason": reason,
                         "reject_count": 1})
        return rows
    version = paper.version or api_meta.get("version")
    url = abs_url(paper.arxiv_id, version)
    rows.append({
        "id": document_id("arxiv", url), "url": url, "text": paper.text, "arxiv_id": paper.arxiv_id,
        "version": version, "title": api_meta.get("title") or paper.title, "main_file": paper.main_file,
        "source_file": locator, "categories": " ".join(api_meta.get("categories") or []) or None,
        "primary_category": api_meta.get("primary_category"),
        "missing_inputs": json.dumps(paper.missing_inputs),
    })
    return rows


def _refusal_rows(refusals: Refusals, locator: str) -> list[dict[str, Any]]:
    return [{"source_file": locator, "reject_kind": "refused", "reject_reason": reason, "reject_count": n}
            for reason, n in sorted(refusals.items())]


def source_rows(locator: str, content: bytes | None, api_meta_json: str | None,
                limits: ArchiveLimits) -> list[dict[str, Any]]:
    """Rows for one work item: `content` is fetched bytes, or None to read `locator` from disk."""
    api_meta = json.loads(api_meta_json) if api_meta_json else {}
    name = api_meta.get("name") or os.path.basename(locator)
    if content is not None:
        return _paper_rows(name, content, locator, limits, api_meta)
    try:
        size = os.path.getsize(locator)
        with open(locator, "rb") as f:
            head = f.read(512)
            f.seek(0)
            if is_bundle(name, head):
                rows: list[dict[str, Any]] = []
                refusals = Refusals()
                for member in iter_bundle(f, size, limits, refusals):
                    rows += _paper_rows(member.name, member.data, f"{locator}!{member.name}", limits, {})
                return rows + _refusal_rows(refusals, locator)
            if size > limits.max_member_bytes:
                return _refusal_rows(Refusals({"member_too_large": 1}), locator)
            payload = f.read()
    except OSError:
        return [{"source_file": locator, "reject_kind": "rejected", "reject_reason": "unreadable_file",
                 "reject_count": 1}]
    return _paper_rows(name, payload, locator, limits, api_meta)


def rows_frame(rows: list[dict[str, Any]]):
    """A pandas frame with explicit dtypes (Arrow cannot infer all-None columns)."""
    import pandas as pd

    out = pd.DataFrame(rows, columns=ROW_COLUMNS).astype(object)
    out["reject_count"] = pd.to_numeric(out["reject_count"], errors="coerce").fillna(0).astype("int64")
    return out
