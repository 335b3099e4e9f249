"""Progress lines: throttled by time or item count, with rate and ETA; thread-safe counting."""

from __future__ import annotations

import threading

from pipeline.progress import Progress, format_duration


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_lines_are_throttled_and_carry_rate_and_eta():
    clock, lines = Clock(), []
    p = Progress("crawl", "pages", total=100, every_s=5.0, emit=lines.append, clock=clock)
    clock.t = 1.0
    p.update(10)
    assert lines == []  # under 5 s since the start: quiet
    clock.t = 5.0
    p.update(20)
    assert lines == ["[crawl] 20/100 pages (20%) | 4.0 pages/s | ETA 20s"]
    clock.t = 6.0
    p.update(25)
    assert len(lines) == 1
    clock.t = 50.0
    p.finish()
    assert lines[-1] == "[crawl] 25/100 pages (25%) | 0.5 pages/s | done in 50s"


def test_unknown_total_and_item_trigger():
    clock, lines = Clock(), []
    p = Progress("synth llm", "requests", every_s=1e9, every_items=3, emit=lines.append, clock=clock)
    clock.t = 2.0
    for _ in range(7):
        p.advance()
    assert lines == ["[synth llm] 3 requests | 1.5 requests/s", "[synth llm] 6 requests | 3.0 requests/s"]


def test_advance_counts_every_item_across_threads():
    p = Progress("x", "items", every_s=1e9, emit=lambda _: None)
    threads = [threading.Thread(target=lambda: [p.advance() for _ in range(1000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert p.done == 4000


def test_durations():
    assert [format_duration(s) for s in (5, 75, 3725)] == ["5s", "1m15s", "1h02m"]
