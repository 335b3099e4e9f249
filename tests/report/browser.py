"""Headless Chromium (Debian's `chromium`, `make chromium`): DOM dumps, screenshots and console messages."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def chromium() -> str:
    """The browser binary; its absence fails the test unless PIPELINE_NO_CHROMIUM=1 says to skip."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("PIPELINE_NO_CHROMIUM") == "1":
        pytest.skip("no chromium on this machine (PIPELINE_NO_CHROMIUM=1)")
    pytest.fail("chromium not found: run `make chromium` (apt-get install chromium)")


@dataclass
class Page:
    stdout: str
    console: list[str]  # every console message and uncaught exception the page produced


def headless(url: str, profile: Path, *args: str, timeout: int = 90) -> Page:
    cmd = [chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    # Chromium logs console output as `...:INFO:CONSOLE:<line>] "message", source: URL (line)`
    console = [line for line in out.stderr.splitlines() if ":CONSOLE" in line]
    return Page(out.stdout, console)
