"""The simulated world: one seed, the faults it draws, and the payment desk the fleet charges (lab 07).

Every random choice is a *keyed* draw: `world.draw("latency", "p3")` hashes (seed, the key) to a number in
[0, 1). Nothing depends on the order draws are made in, so a sub-task re-executed after a crash meets the
same latency and the same model behaviour as the first time, and two runs of one seed are identical.

A fault strikes where `world.fires(fault, *where)` says so. In *rate* mode a fault named in the nemesis
strikes with its rate; in *schedule* mode exactly the listed (fault, where) pairs strike — that is how a
failing run is shrunk to the fewest faults that still break it (`agentlab.sim.explore.shrink`).

    lost_reply        the desk charges the order, then its reply is lost (the caller sees a timeout)
    tool_5xx          the desk fails with a 5xx before charging
    throttled         the desk answers 429 with Retry-After before charging
    hang              the desk charges (or not) and never answers: the caller gives up at its timeout
    malformed         the model sends a tool call whose arguments are not JSON
    model_error       one model step fails past its retries
    worker_crash      a copy of a sub-task ran, but its worker died before the result came back: re-sent
    supervisor_crash  the supervisor's process dies at one of its journal writes; a new one resumes the run
    long_reply        the model writes a long final answer (up to its max_tokens)
    reword            the reducer re-plans failed work in other words (a line break, a double space)
    invent_ids        the reducer re-plans failed work under new ids, without saying what it replaces
    split             the reducer re-plans one failed sub-task as two (both paying its order)
    merge             the reducer re-plans two failed sub-tasks as one (paying both orders)
    duplicate         a worker's result is delivered twice
    clock_jump        the clock jumps 45 s forward (timeouts, breaker windows and rate limits see it)
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentlab.errors import ServiceError, Throttled, ToolTimeout, UsageError
from agentlab.sim.history import History

__all__ = ["FAULTS", "NEMESES", "Desk", "World"]

HANG_S = 10.0
"""How long a caller waits on a hung desk before its contract abandons the call."""

FAULTS: Mapping[str, float] = {
    "lost_reply": 0.25,
    "tool_5xx": 0.15,
    "throttled": 0.05,
    "hang": 0.03,
    "malformed": 0.03,
    "model_error": 0.05,
    "worker_crash": 0.08,
    "supervisor_crash": 1.0,
    "long_reply": 0.3,
    "reword": 0.7,
    "invent_ids": 0.3,
    "split": 0.15,
    "merge": 0.3,
    "duplicate": 0.05,
    "clock_jump": 0.02,
}
"""Each fault's rate when the nemesis names it (supervisor_crash: one crash per run, at a drawn write)."""

NEMESES: Mapping[str, tuple[str, ...]] = {
    "none": (),
    "payments": ("lost_reply", "tool_5xx", "throttled", "hang", "malformed", "model_error"),
    "replans": ("reword", "invent_ids", "split", "merge"),
    "crashes": ("worker_crash", "supervisor_crash", "duplicate", "clock_jump"),
    "budget": ("long_reply",),
    "all": tuple(FAULTS),
}
"""Named sets of faults; `agentlab sim explore --nemesis payments,crashes` combines them."""


def faults_of(names: Collection[str]) -> frozenset[str]:
    """The faults of nemesis names and single fault names, combined."""
    found: set[str] = set()
    for name in names:
        if name in NEMESES:
            found |= set(NEMESES[name])
        elif name in FAULTS:
            found.add(name)
        else:
            known = ", ".join([*NEMESES, *FAULTS])
            raise UsageError(f"no nemesis or fault called {name!r}; known: {known}")
    return frozenset(found)


@dataclass
class World:
    """One run's seed, faults and history; `schedule` set means schedule mode (see the module docstring)."""

    seed: int
    faults: frozenset[str] = frozenset()
    schedule: frozenset[tuple[str, str]] | None = None
    history: History = field(default_factory=History)
    rates: Mapping[str, float] = field(default_factory=lambda: FAULTS)
    """Each fault's rate in rate mode (the fleet's `FAULTS`; the blackboard has its own)."""
    fired: list[tuple[str, str]] = field(default_factory=list)
    now: Any = None
    """The run's clock (a FakeClock), so records carry virtual time."""
    current: str = ""
    """The sub-task a runner is running right now (the simulation runs one thing at a time)."""
    gave_up: bool = False
    """Whether the model gave up during the execution running now."""
    used: int = 0
    """Tokens the budgeted model steps really used (prompt and completion), counted at the model."""

    def draw(self, *key: object) -> float:
        """A number in [0, 1) decided by the seed and `key` alone."""
        digest = hashlib.blake2b(repr((self.seed, key)).encode(), digest_size=8).digest()
        return float(struct.unpack(">Q", digest)[0] / 2**64)

    def fires(self, fault: str, *where: object) -> bool:
        """Does `fault` strike at `where`? Recorded in the history when it does."""
        place = "/".join(map(str, where))
        if self.schedule is not None:
            hit = (fault, place) in self.schedule
        else:
            hit = fault in self.faults and self.draw(fault, *where) < self.rates[fault]
        if hit:
            self.fired.append((fault, place))
            self.record("fault", place, fault=fault)
        return hit

    def record(self, kind: str, subject: str, **data: Any) -> None:
        self.history.add(self.now() if self.now is not None else 0.0, kind, subject, **data)


@dataclass
class Desk:
    """The payment service: charges each idempotency key once, and can lose a reply after charging."""

    world: World
    charges: dict[str, str] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)

    def pay(self, order: str, amount: float, key: str | None) -> dict[str, Any]:
        if key is None:
            raise UsageError("a payment needs an idempotency key")
        n = self.seen[key] = self.seen.get(key, 0) + 1
        if self.world.fires("tool_5xx", key, n):
            raise ServiceError("HTTP 503 from the payment desk", status=503, retryable=True)
        if self.world.fires("throttled", key, n):
            raise Throttled("HTTP 429 from the payment desk", retry_after=1.0)
        first = key not in self.charges
        if first:
            self.charges[key] = order
        self.world.record("charge", order, key=key, first=first, amount=amount)
        if self.world.fires("lost_reply", key, n):
            raise ServiceError("the payment desk's reply was lost (connection reset)", retryable=True)
        if self.world.fires("hang", key, n):
            self.world.now.advance(HANG_S)  # the caller waited out its timeout on the run's clock
            raise ToolTimeout(f"pay did not answer within {HANG_S:g} s; the call was abandoned")
        return {"charged": order, "amount": amount}
