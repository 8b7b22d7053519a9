"""Fault injection: latency, errors, hangs and throttling, decided deterministically (labs 02-04).

A `FaultPlan` is a pure value. `plan.decide(key, attempt)` says what happens to one request: the
service passes a key that names the request (say, the path plus its idempotency key) and how many
times it has seen that key. The draw is seeded by (seed, key, attempt), so the same request meets the
same fault whatever the order or concurrency of other requests — tests, benchmarks and labs replay.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from agentlab.latency import Latency

__all__ = ["Fault", "FaultPlan"]


@dataclass(frozen=True)
class Fault:
    """What one request meets: "ok", "error" (a 5xx), "hang" (no reply in time) or "throttle" (429)."""

    kind: str
    delay: float = 0.0
    """Seconds to wait before replying (the service's latency for this request)."""
    retry_after: float = 0.0
    """For "throttle": the Retry-After the service announces."""


@dataclass(frozen=True)
class FaultPlan:
    """How a service misbehaves. Defaults: always healthy, no latency."""

    seed: int = 0
    latency: Latency = field(default_factory=Latency)
    error_rate: float = 0.0
    """Probability that a request fails with a retryable server error."""
    fail_first: int = 0
    """The first `fail_first` attempts of every key fail (an error burst a retry must ride out)."""
    hang_rate: float = 0.0
    """Probability that a request hangs for `hang_seconds` (longer than any sane timeout)."""
    hang_seconds: float = 30.0
    throttle_rate: float = 0.0
    """Probability of a 429 with Retry-After `retry_after` seconds."""
    retry_after: float = 0.05

    def decide(self, key: str, attempt: int = 0) -> Fault:
        """The fault for attempt number `attempt` (0-based) of the request named `key`."""
        digest = hashlib.sha256(f"{self.seed}|{key}|{attempt}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        delay = self.latency.sample(rng)
        roll = rng.random()
        if attempt < self.fail_first:
            return Fault("error", delay)
        if roll < self.hang_rate:
            return Fault("hang", self.hang_seconds)
        roll -= self.hang_rate
        if roll < self.throttle_rate:
            return Fault("throttle", delay, self.retry_after)
        roll -= self.throttle_rate
        if roll < self.error_rate:
            return Fault("error", delay)
        return Fault("ok", delay)
