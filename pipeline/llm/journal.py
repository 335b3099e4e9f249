"""An append-only journal of completed LLM responses, keyed by a hash of the request.

One JSONL file per partition (`<dir>/<name>.jsonl`; all files of `<dir>` are read back): each line {"key", "content", "usage"} is written
and flushed as soon as its response arrives, so a run killed half way keeps everything it paid for and
a rerun sends only the requests whose key is missing. A line cut short by the kill is ignored on read.
Several threads of one partition append through one lock; partitions never share a file.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class Journal:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._done: dict[str, dict[str, Any]] = {}
        self.torn_lines = 0
        # every partition file of the directory is read: a rerun partitioned differently still finds its answers
        for path in sorted(self.path.parent.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    self._done[entry["key"]] = entry
                except (ValueError, KeyError, TypeError):
                    self.torn_lines += 1  # the line a kill interrupted
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def get(self, key: str) -> dict[str, Any] | None:
        return self._done.get(key)

    def __len__(self) -> int:
        return len(self._done)

    def put(self, key: str, content: str, usage: dict[str, int] | None = None) -> None:
        entry = {"key": key, "content": content, "usage": usage or {}}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self._done[key] = entry
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()
