"""Throughput and MFU bookkeeping, and the run's metrics.jsonl."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

# Dense peak FLOP/s per device from the vendors' datasheets (no sparsity), by precision.
# A GPU not listed here (or any CPU) gets no MFU unless `peak_flops` is configured.
PEAK_FLOPS = {
    "H200": {"bf16": 989e12, "fp32": 67e12},
    "H100": {"bf16": 989e12, "fp32": 67e12},  # SXM; the PCIe card is ~756e12 bf16
    "A100": {"bf16": 312e12, "fp32": 19.5e12},
    "L40S": {"bf16": 362e12, "fp32": 91.6e12},
    "A10": {"bf16": 125e12, "fp32": 31.2e12},
}


def device_peak_flops(device: torch.device, precision: str, configured: float = 0.0) -> float | None:
    if configured > 0:
        return configured
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peaks in PEAK_FLOPS.items():
        if key in name:
            return peaks.get(precision)
    return None


class Throughput:
    """Tokens/s and MFU over the interval since the last `report`."""

    def __init__(self, flops_per_token: float, peak_flops: float | None, world_size: int):
        self.flops_per_token, self.peak, self.world = flops_per_token, peak_flops, world_size
        self.tokens, self.t0 = 0, time.perf_counter()

    def add(self, tokens: int) -> None:
        self.tokens += tokens

    def report(self) -> tuple[float, float | None]:
        now = time.perf_counter()
        tps = self.tokens / max(now - self.t0, 1e-9)
        self.tokens, self.t0 = 0, now
        mfu = tps * self.flops_per_token / (self.peak * self.world) if self.peak else None
        return tps, mfu


class MetricsLog:
    """Appends one JSON object per line; a resumed run continues the same file."""

    def __init__(self, path: Path, enabled: bool):
        self.path, self.enabled = path, enabled

    def write(self, record: dict) -> None:
        if self.enabled:
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")

    def truncate_after(self, step: int) -> None:
        """On resume, drop records past the checkpoint: those steps are about to run again."""
        if not (self.enabled and self.path.exists()):
            return
        kept = [line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        self.path.write_text("".join(line + "\n" for line in kept))


def read_metrics(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
