"""Progress lines with rates for long loops that Spark's UI does not show (crawl, LLM synthesis).

`Progress.update(done)` prints at most one line every `every_s` seconds (or every `every_items`
items): count, share of the total, items/s over the whole run and an ETA where the total is known.
Thread-safe: the LLM client counts from its worker threads.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@dataclass
class Progress:
    label: str  # e.g. "crawl"
    unit: str  # e.g. "pages"
    total: int | None = None  # unknown totals get no percentage and no ETA
    every_s: float = 5.0
    every_items: int = 0  # 0: time-based only
    emit: Callable[[str], None] = _stderr
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    _t0: float = field(default=0.0, init=False)
    _last_t: float = field(default=0.0, init=False)
    _last_done: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._t0 = self._last_t = self.clock()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._set(self.done + n)

    def update(self, done: int) -> None:
        with self._lock:
            self._set(done)

    def finish(self) -> None:
        """One last line with the final count and mean rate (if anything was counted)."""
        with self._lock:
            if self.done:
                self.emit(self.line(final=True))

    def line(self, final: bool = False) -> str:
        elapsed = max(self.clock() - self._t0, 1e-9)
        rate = self.done / elapsed
        count = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        parts = [f"[{self.label}] {count} {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        parts.append(f"{rate:,.1f} {self.unit}/s")
        if final:
            parts.append(f"done in {format_duration(elapsed)}")
        elif self.total and rate > 0:
            parts.append(f"ETA {format_duration(max(self.total - self.done, 0) / rate)}")
        return " | ".join(parts)

    def _set(self, done: int) -> None:
        self.done = done
        now = self.clock()
        due_time = now - self._last_t >= self.every_s
        due_items = self.every_items > 0 and done - self._last_done >= self.every_items
        if done != self._last_done and (due_time or due_items):
            self._last_t, self._last_done = now, done
            self.emit(self.line())
