"""The crawl frontier, persisted in SQLite so a killed crawl resumes where it stopped.

Every URL the crawl has seen is one row (the primary key de-duplicates normalised URLs).
A URL becomes `done` only after its WARC records are flushed, and on restart the WARC files
are reconciled against the frontier (pipeline/web/warc_write.py), so each page lands in the
WARC output exactly once however the previous process died.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

QUEUED, DONE, FAILED, SKIPPED = "queued", "done", "failed", "skipped"


class Frontier:
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)  # autocommit: each mark is durable
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS urls (url TEXT PRIMARY KEY, depth INTEGER NOT NULL, "
            "status TEXT NOT NULL, reason TEXT, seq INTEGER NOT NULL)")
        self.db.execute("CREATE INDEX IF NOT EXISTS urls_status ON urls(status, seq)")

    def add(self, urls: list[str], depth: int) -> int:
        """Queue URLs not seen before; returns how many were new."""
        (seq,) = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM urls").fetchone()
        before = self.db.total_changes
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO urls(url, depth, status, seq) VALUES (?, ?, ?, ?)",
                                [(u, depth, QUEUED, seq + i + 1) for i, u in enumerate(urls)])
        return self.db.total_changes - before

    def queued(self, limit: int = 1000) -> list[tuple[str, int]]:
        """Queued (url, depth) in discovery order (breadth-first)."""
        return self.db.execute("SELECT url, depth FROM urls WHERE status = ? ORDER BY seq LIMIT ?",
                               (QUEUED, limit)).fetchall()

    def mark(self, url: str, status: str, reason: str | None = None) -> None:
        self.db.execute("UPDATE urls SET status = ?, reason = ? WHERE url = ?", (status, reason, url))

    def mark_done_many(self, urls: list[str]) -> int:
        before = self.db.total_changes
        with self.db:
            self.db.executemany("UPDATE urls SET status = ?, reason = NULL WHERE url = ? AND status != ?",
                                [(DONE, u, DONE) for u in urls])
        return self.db.total_changes - before

    def status(self, url: str) -> str | None:
        row = self.db.execute("SELECT status FROM urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.db.execute("SELECT COUNT(*) FROM urls").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM urls WHERE status = ?", (status,)).fetchone()[0]

    def reasons(self) -> dict[str, int]:
        rows = self.db.execute("SELECT reason, COUNT(*) FROM urls WHERE reason IS NOT NULL GROUP BY reason")
        return dict(rows.fetchall())

    def close(self) -> None:
        self.db.close()
