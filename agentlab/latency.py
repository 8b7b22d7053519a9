"""Latency distributions for simulated model steps and tool services (labs 01-03).

Every sample is drawn from a generator the caller seeds, so a simulated run is reproducible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from agentlab.errors import UsageError

__all__ = ["Latency"]


@dataclass(frozen=True)
class Latency:
    """Seconds per call: `fixed` (mean), `uniform` (low..high), `lognormal` (mean, sigma) or `exponential` (mean)."""

    kind: str = "fixed"
    mean: float = 0.0
    low: float = 0.0
    high: float = 0.0
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "uniform", "lognormal", "exponential"):
            raise UsageError(f"unknown latency kind {self.kind!r}")
        if min(self.mean, self.low, self.high) < 0:
            raise UsageError("latencies cannot be negative")

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.mean
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "exponential":
            return rng.expovariate(1 / self.mean) if self.mean > 0 else 0.0
        # lognormal: the mean of exp(N(mu, s^2)) is exp(mu + s^2/2), so choose mu to hit `mean`
        mu = math.log(max(self.mean, 1e-9)) - self.sigma**2 / 2
        return rng.lognormvariate(mu, self.sigma)
