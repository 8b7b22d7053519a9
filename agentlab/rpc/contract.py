"""Tool calls as RPC: each tool's contract, and the pure decisions that carry it out (lab 02).

A tool call crosses a boundary, so it gets what every RPC has always needed. The *contract* is a value
(`ToolPolicy`), decided separately from the code that enforces it (`agentlab.rpc.guarded`):

- **timeout**: how long the caller waits; after that the call is abandoned (`ToolTimeout`);
- **retry**: bounded attempts with exponential backoff and full jitter, only for retryable errors,
  never sooner than the service's Retry-After; a non-idempotent tool is retried only with a key;
- **circuit breaker**: closed → open after `failures` consecutive failures → half-open after
  `reset_after` seconds (one probe) → closed on success, open again on failure;
- **rate limit**: a token bucket of `per_second` tokens, holding at most `burst`;
- **fallback**: what to answer when the call cannot succeed (e.g. a cached retrieval result).

Every decision below is a pure function of a small state value and the time, so tests pass a clock
and labs can plot a breaker's life without running anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from agentlab.errors import ServiceError, ToolTimeout

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "Bucket",
    "RateLimit",
    "RetryPolicy",
    "ToolPolicy",
    "admit",
    "backoff",
    "is_retryable",
    "record",
    "take_token",
]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    """Total attempts, the first one included (1 = never retry)."""
    base: float = 0.05
    """Backoff before the first retry, in seconds; doubles each retry."""
    cap: float = 2.0
    """The longest single backoff."""
    jitter: bool = True
    """Full jitter: sleep a uniform amount in [0, backoff], so retrying clients do not stampede together."""
    on_timeout: bool = True
    """Retry an attempt that timed out. False where a timeout says "too slow", not "unlucky": the next
    attempt would wait as long again (an MCP server's tools: `agentlab.protocols.mcp_tools.contract`)."""


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5
    """Consecutive failures that open the circuit."""
    reset_after: float = 30.0
    """Seconds the circuit stays open before one half-open probe is let through."""


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int = 1


@dataclass(frozen=True)
class ToolPolicy:
    """One tool's RPC contract."""

    timeout: float | None = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idempotent: bool = True
    """Safe to repeat. A non-idempotent tool (a payment) is never retried unless it forwards its key."""
    forwards_key: bool = False
    """The tool passes `idempotency_key()` on to its service, which deduplicates on it."""
    breaker: BreakerPolicy | None = None
    rate_limit: RateLimit | None = None
    service: str | None = None
    """Breakers and rate limits are per service; several tools can share one (default: the tool's name)."""
    fallback: Callable[..., Any] | None = None
    """Called with the tool's arguments when the call finally fails; its value becomes the observation."""


# -- retries ---------------------------------------------------------------------------------------


def is_retryable(error: BaseException, policy: RetryPolicy | None = None) -> bool:
    """Transient failures are worth another attempt; bad requests and open circuits are not, and
    timeouts only when `policy.on_timeout` says so."""
    if isinstance(error, ServiceError):
        return error.retryable
    if isinstance(error, ToolTimeout | TimeoutError):
        return policy is None or policy.on_timeout
    return isinstance(error, ConnectionError)


def backoff(policy: RetryPolicy, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number `retry` (1-based): capped exponential, jittered, ≥ Retry-After."""
    ceiling = min(policy.cap, policy.base * 2 ** (retry - 1))
    wait = rng.uniform(0, ceiling) if policy.jitter else ceiling
    return max(wait, retry_after or 0.0)


# -- circuit breaker -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakerState:
    state: str = "closed"
    """"closed" (calls flow), "open" (calls refused), or "half_open" (one probe in flight)."""
    failures: int = 0
    opened_at: float = 0.0


def admit(state: BreakerState, policy: BreakerPolicy, now: float) -> tuple[bool, BreakerState]:
    """May a call go through now? Open circuits refuse until `reset_after`, then let one probe pass."""
    if state.state == "closed":
        return True, state
    if state.state == "open" and now - state.opened_at >= policy.reset_after:
        return True, replace(state, state="half_open")
    return False, state  # open and cooling down, or half-open with the probe still out


def record(state: BreakerState, policy: BreakerPolicy, ok: bool, now: float) -> BreakerState:
    """The breaker after a call's outcome."""
    if ok:
        return BreakerState()
    if state.state == "half_open" or state.failures + 1 >= policy.failures:
        return BreakerState("open", state.failures + 1, now)
    return replace(state, failures=state.failures + 1)


# -- rate limit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float


def take_token(bucket: Bucket, limit: RateLimit, now: float, *, reserve: bool = True) -> tuple[float, Bucket]:
    """Refill for the time elapsed, then take a token: (seconds to wait first, new bucket).

    A client that will wait its turn *reserves* the token now (`reserve=True`); a server that refuses
    the request instead (429) takes nothing when none is available (`reserve=False`).
    """
    tokens = min(float(limit.burst), bucket.tokens + max(0.0, now - bucket.updated) * limit.per_second)
    if tokens >= 1 - 1e-9:  # the tolerance keeps an exact refill (0.1 s at 10/s) from missing by rounding
        return 0.0, Bucket(tokens - 1, now)
    wait = (1 - tokens) / limit.per_second
    return wait, Bucket(tokens - 1 if reserve else tokens, now)
