"""The RPC driver with in-process tools: timeouts, retries, breaker, rate limit, approvals, fallback."""

from __future__ import annotations

import json
import threading
import time
from itertools import count

import pytest

from agentlab.agent.tools import tool
from agentlab.errors import ServiceError, Throttled
from agentlab.rpc import contract as rpc
from agentlab.rpc.guarded import GuardedToolbox, Services, idempotency_key
from agentlab.testing import FakeClock
from agentlab.wire import ToolCall


def _call(name: str, **args: object) -> ToolCall:
    return ToolCall("c1", name, json.dumps(args))


def test_a_hung_tool_returns_control_within_its_timeout() -> None:
    release = threading.Event()

    @tool
    def hang(x: int) -> str:
        """Never answers in time."""
        release.wait(30)
        return "late"

    box = GuardedToolbox([hang], {"hang": rpc.ToolPolicy(timeout=0.3, retry=rpc.RetryPolicy(attempts=1))})
    obs = box.call(_call("hang", x=1))  # returns although the tool is still blocked until `release`
    assert obs.error == "ToolTimeout" and "abandoned" in obs.content
    assert [e.outcome for e in box.events] == ["ToolTimeout"]  # no result yet: the tool is still running
    release.set()  # the abandoned thread finishes; its result is recorded as late and ignored
    for _ in range(100):
        if any(e.outcome == "late" for e in box.events):
            break
        time.sleep(0.01)
    assert [e.outcome for e in box.events] == ["ToolTimeout", "late"]


def test_retries_ride_out_transient_errors_with_backoff() -> None:
    calls = count()

    @tool
    def flaky(x: int) -> int:
        """Fails twice, then works."""
        if next(calls) < 2:
            raise ServiceError("503 busy", status=503, retryable=True)
        return x * 2

    clock = FakeClock()
    box = GuardedToolbox(
        [flaky],
        services=Services(clock, clock.sleep),
        default=rpc.ToolPolicy(retry=rpc.RetryPolicy(attempts=3, base=0.1, jitter=False)),
    )
    obs = box.call(_call("flaky", x=21))
    assert obs.ok and obs.content == "42"
    assert clock.slept == [0.1, 0.2]
    assert [e.outcome for e in box.events] == ["ServiceError", "ServiceError", "ok"]
    assert [e.attempt for e in box.events] == [1, 2, 3]
    assert len({e.key for e in box.events}) == 1  # every attempt carries the same key


def test_retry_budget_is_bounded_and_non_retryable_errors_stop_at_once() -> None:
    @tool
    def broken(x: int) -> int:
        """Always 503."""
        raise ServiceError("503", status=503, retryable=True)

    @tool
    def refused(x: int) -> int:
        """Always 409."""
        raise ServiceError("409 conflict", status=409)

    clock = FakeClock()
    box = GuardedToolbox(
        [broken, refused],
        services=Services(clock, clock.sleep),
        default=rpc.ToolPolicy(retry=rpc.RetryPolicy(attempts=4)),
    )
    assert box.call(_call("broken", x=1)).error == "ServiceError"
    assert box.call(_call("refused", x=1)).error == "ServiceError"
    assert [e.tool for e in box.events].count("broken") == 4
    assert [e.tool for e in box.events].count("refused") == 1


def test_retry_after_is_honoured() -> None:
    calls = count()

    @tool
    def throttled(x: int) -> int:
        """429 once."""
        if next(calls) == 0:
            raise Throttled("slow down", retry_after=1.5)
        return x

    clock = FakeClock()
    box = GuardedToolbox([throttled], services=Services(clock, clock.sleep))
    assert box.call(_call("throttled", x=1)).ok
    assert clock.slept == [1.5]


def test_non_idempotent_tools_are_not_retried_unless_they_forward_the_key() -> None:
    seen: list[str | None] = []

    @tool
    def charge(amount: float) -> str:
        """A payment."""
        seen.append(idempotency_key())
        raise ServiceError("502", status=502, retryable=True)

    clock = FakeClock()
    services = Services(clock, clock.sleep)
    blind = GuardedToolbox([charge], {"charge": rpc.ToolPolicy(idempotent=False)}, services=services)
    blind.call(_call("charge", amount=5))
    assert len(seen) == 1
    keyed = GuardedToolbox([charge], {"charge": rpc.ToolPolicy(idempotent=False, forwards_key=True)}, services=services)
    keyed.call(_call("charge", amount=5))
    assert len(seen) == 1 + 3 and len(set(seen[1:])) == 1 and seen[1] is not None


def test_breaker_opens_refuses_fast_and_half_opens_after_reset() -> None:
    healthy = threading.Event()

    @tool
    def svc(x: int) -> int:
        """A service that is down until told otherwise."""
        if not healthy.is_set():
            raise ServiceError("503", status=503, retryable=True)
        return x

    clock = FakeClock()
    policy = rpc.ToolPolicy(retry=rpc.RetryPolicy(attempts=1), breaker=rpc.BreakerPolicy(failures=3, reset_after=30))
    box = GuardedToolbox([svc], {"svc": policy}, services=Services(clock, clock.sleep))
    for _ in range(3):
        assert box.call(_call("svc", x=1)).error == "ServiceError"
    assert box.services.breaker("svc").state == "open"
    refused = box.call(_call("svc", x=1))
    assert refused.error == "CircuitOpen" and box.events[-1].outcome == "circuit_open"
    clock.now += 29.9
    assert box.call(_call("svc", x=1)).error == "CircuitOpen"
    clock.now += 0.1
    healthy.set()
    assert box.call(_call("svc", x=1)).ok  # the half-open probe succeeds
    assert box.services.breaker("svc").state == "closed"
    calls_made = [e.outcome for e in box.events if e.outcome != "circuit_open"]
    assert calls_made == ["ServiceError"] * 3 + ["ok"]


def test_rate_limit_spaces_calls_to_a_service() -> None:
    @tool
    def ping(x: int) -> int:
        """Echo."""
        return x

    clock = FakeClock()
    policy = rpc.ToolPolicy(rate_limit=rpc.RateLimit(per_second=5, burst=1))
    box = GuardedToolbox([ping], {"ping": policy}, services=Services(clock, clock.sleep))
    for i in range(3):
        assert box.call(_call("ping", x=i)).ok
    assert clock.slept == pytest.approx([0.2, 0.2])


def test_unapproved_tool_calls_are_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    ran = []

    @tool
    def wire_money(amount: float) -> str:
        """Move money."""
        ran.append(amount)
        return "sent"

    box = GuardedToolbox([wire_money], approved=[])
    with caplog.at_level("WARNING", logger="agentlab.rpc.contract"):
        obs = box.call(_call("wire_money", amount=1e6))
    assert not ran
    assert obs.error == "NotApproved" and "not an approved tool" in obs.content
    assert "refused unapproved call wire_money" in caplog.text
    assert [e.outcome for e in box.events] == ["refused"]


def test_fallback_answers_when_all_attempts_fail() -> None:
    @tool
    def search(query: str) -> str:
        """Always times out."""
        time.sleep(5)
        return "fresh"

    policy = rpc.ToolPolicy(
        timeout=0.05,
        retry=rpc.RetryPolicy(attempts=2, base=0.0),
        fallback=lambda query: f"(cached) results for {query}",
    )
    obs = GuardedToolbox([search], {"search": policy}).call(_call("search", query="INC-1"))
    assert obs.ok and obs.content == "(cached) results for INC-1"


def test_independent_identical_calls_are_each_attempt_1_and_share_the_step_s_key() -> None:
    @tool
    def ping(x: int) -> int:
        """Ping.

        Args:
            x: a number.
        """
        return x

    box = GuardedToolbox([ping], run_id="r", path="step-1")
    for _ in range(3):
        assert box.call(_call("ping", x=1)).ok
    assert [e.attempt for e in box.events] == [1, 1, 1]  # attempts come from the retry state, not a log scan
    assert len({e.key for e in box.events}) == 1
    other = GuardedToolbox([ping])  # no step given: a toolbox of its own is a step of its own
    other.call(_call("ping", x=1))
    assert other.events[0].key != box.events[0].key
