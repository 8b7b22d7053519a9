"""The RPC contract's pure decisions: backoff, retryability, breaker transitions, token bucket."""

from __future__ import annotations

import random

import pytest

from agentlab.errors import CircuitOpen, ServiceError, Throttled, ToolTimeout
from agentlab.identity import canonical, step_key
from agentlab.rpc import contract as rpc


def test_backoff_doubles_caps_and_jitters_within_bounds() -> None:
    policy = rpc.RetryPolicy(base=0.1, cap=0.5, jitter=False)
    assert [rpc.backoff(policy, n, random.Random(0)) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]
    jittered = rpc.RetryPolicy(base=0.1, cap=0.5)
    rng = random.Random(1)
    waits = [rpc.backoff(jittered, 3, rng) for _ in range(500)]
    assert min(waits) >= 0 and max(waits) <= 0.4 and len(set(waits)) > 400


def test_backoff_never_sooner_than_retry_after() -> None:
    assert rpc.backoff(rpc.RetryPolicy(base=0.01), 1, random.Random(0), retry_after=2.5) == 2.5


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ServiceError("503", status=503, retryable=True), True),
        (Throttled("429", retry_after=1), True),
        (ServiceError("409", status=409), False),
        (ToolTimeout("slow"), True),
        (CircuitOpen("open"), False),
        (ValueError("bad"), False),
    ],
)
def test_only_transient_errors_are_retryable(error: Exception, retryable: bool) -> None:
    assert rpc.is_retryable(error) is retryable


def test_a_policy_may_refuse_to_retry_timeouts_and_only_timeouts() -> None:
    patient = rpc.RetryPolicy(on_timeout=False)
    assert not rpc.is_retryable(ToolTimeout("slow"), patient) and not rpc.is_retryable(TimeoutError(), patient)
    assert rpc.is_retryable(ServiceError("503", status=503, retryable=True), patient)
    assert rpc.is_retryable(ConnectionError(), patient)
    assert rpc.is_retryable(ToolTimeout("slow"), rpc.RetryPolicy())


def test_breaker_life_cycle() -> None:
    policy = rpc.BreakerPolicy(failures=3, reset_after=10)
    state = rpc.BreakerState()
    for t in (0, 1):
        state = rpc.record(state, policy, ok=False, now=t)
        assert state.state == "closed"
    state = rpc.record(state, policy, ok=False, now=2)
    assert (state.state, state.opened_at) == ("open", 2)
    assert rpc.admit(state, policy, now=11.9) == (False, state)  # still cooling down
    allowed, state = rpc.admit(state, policy, now=12)
    assert allowed and state.state == "half_open"
    assert rpc.admit(state, policy, now=12.1)[0] is False  # only one probe at a time
    reopened = rpc.record(state, policy, ok=False, now=13)
    assert (reopened.state, reopened.opened_at) == ("open", 13)
    assert rpc.record(state, policy, ok=True, now=13) == rpc.BreakerState()


def test_success_resets_the_failure_count() -> None:
    policy = rpc.BreakerPolicy(failures=2)
    state = rpc.record(rpc.BreakerState(), policy, ok=False, now=0)
    state = rpc.record(state, policy, ok=True, now=1)
    assert rpc.record(state, policy, ok=False, now=2).state == "closed"


def test_token_bucket_allows_a_burst_then_spaces_calls() -> None:
    limit = rpc.RateLimit(per_second=10, burst=2)
    bucket = rpc.Bucket(2.0, 0.0)
    waits = []
    for _ in range(4):
        wait, bucket = rpc.take_token(bucket, limit, now=0.0)
        waits.append(round(wait, 6))
    assert waits == [0.0, 0.0, 0.1, 0.2]
    wait, _ = rpc.take_token(rpc.Bucket(0.0, 0.0), limit, now=1.0)  # refilled after a second
    assert wait == 0.0
    # a server refusing with 429 does not consume the token it could not give
    wait, refused = rpc.take_token(rpc.Bucket(0.5, 0.0), limit, now=0.0, reserve=False)
    assert (wait, refused) == (pytest.approx(0.05), rpc.Bucket(0.5, 0.0))


def test_step_keys_come_from_content_not_order() -> None:
    a = step_key("run-1", "plan/0", "pay", {"sku": "NR-1", "amount": 10})
    assert a == step_key("run-1", "plan/0", "pay", {"amount": 10, "sku": "NR-1"})
    assert a != step_key("run-1", "plan/1", "pay", {"sku": "NR-1", "amount": 10})
    assert a != step_key("run-2", "plan/0", "pay", {"sku": "NR-1", "amount": 10})
    assert canonical({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
