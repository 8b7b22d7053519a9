"""The RPC contracts against the real services: a real HTTP API on loopback with injected faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from agentlab.agent.loop import run_agent
from agentlab.models.chat import offline_model
from agentlab.rpc import contract as rpc
from agentlab.rpc.faults import FaultPlan
from agentlab.rpc.guarded import GuardedToolbox, Services
from agentlab.services.api import ApiService
from agentlab.services.api_client import ApiClient, payment_tool, price_tool
from agentlab.testing import FakeClock
from agentlab.wire import ToolCall

PRICES = {"NR-1001": 1249.0, "NR-1002": 99.5}


@contextmanager
def api(timeout: float = 2.0, **options: object) -> Iterator[tuple[ApiService, ApiClient]]:
    with ApiService(PRICES, **options) as service, ApiClient(service.base_url, timeout=timeout) as client:  # type: ignore[arg-type]
        yield service, client


def _price(sku: str = "NR-1001") -> ToolCall:
    return ToolCall("c1", "get_price", json.dumps({"sku": sku}))


def test_a_hung_api_returns_control_within_the_timeout() -> None:
    with api(faults=FaultPlan(hang_rate=1.0, hang_seconds=30)) as (_, client):
        box = GuardedToolbox([price_tool(client)], default=rpc.ToolPolicy(timeout=0.5, retry=rpc.RetryPolicy(1)))
        obs = box.call(_price())  # the service hangs for 30 s; the caller is handed back a ToolTimeout
        assert obs.error == "ToolTimeout" and "abandoned" in obs.content
        assert [e.outcome for e in box.events] == ["ToolTimeout"]  # while the request still hangs


def test_a_flaky_api_succeeds_within_the_retry_budget() -> None:
    with api(faults=FaultPlan(fail_first=2)) as (service, client):
        clock = FakeClock()
        box = GuardedToolbox(
            [price_tool(client)],
            services=Services(clock, clock.sleep),
            default=rpc.ToolPolicy(retry=rpc.RetryPolicy(attempts=3)),
        )
        obs = box.call(_price())
        assert obs.ok and json.loads(obs.content) == 1249.0
        assert service.stats()["error"] == 2 and service.stats()["ok"] == 1
        # one attempt short of the budget it needs, and it fails with the service's error
        short = GuardedToolbox(
            [price_tool(client)],
            services=Services(clock, clock.sleep),
            default=rpc.ToolPolicy(retry=rpc.RetryPolicy(attempts=2)),
        )
        assert short.call(_price("NR-1002")).error == "ServiceError"


def test_the_breaker_opens_refuses_fast_and_half_opens_after_its_reset_time() -> None:
    with api(faults=FaultPlan(fail_first=3)) as (service, client):
        clock = FakeClock()
        policy = rpc.ToolPolicy(
            retry=rpc.RetryPolicy(attempts=1), breaker=rpc.BreakerPolicy(failures=3, reset_after=10)
        )
        box = GuardedToolbox([price_tool(client)], default=policy, services=Services(clock, clock.sleep))
        assert [box.call(_price()).error for _ in range(3)] == ["ServiceError"] * 3
        assert box.services.breaker("get_price").state == "open"
        before = service.stats()["error"]
        assert box.call(_price()).error == "CircuitOpen"
        assert service.stats()["error"] == before  # refused without reaching the service
        clock.advance(10)
        assert box.call(_price()).ok  # the half-open probe gets through and the service has recovered
        assert box.services.breaker("get_price").state == "closed"


def test_payments_retried_under_failures_charge_exactly_once_per_key() -> None:
    # 503s before the charge (30%), and a lost reply after it on every key's first attempt
    with api(faults=FaultPlan(seed=3, error_rate=0.3), lost_reply=FaultPlan(fail_first=1)) as (service, client):
        clock = FakeClock()
        box = GuardedToolbox(
            [payment_tool(client)],
            run_id="run-7",
            services=Services(clock, clock.sleep),
            default=rpc.ToolPolicy(idempotent=False, forwards_key=True, retry=rpc.RetryPolicy(attempts=6)),
        )
        orders = [("NR-1001", 1249.0, f"ORD-{i}") for i in range(8)]
        calls = [
            ToolCall(f"c{i}", "pay", json.dumps({"sku": s, "amount": a, "order": o}))
            for i, (s, a, o) in enumerate(orders)
        ]
        first = box.call_all(calls)
        again = box.call_all(calls)  # the whole turn re-run, as after a crash: same step, same keys
        assert all(o.ok for o in first + again), [o.content for o in first + again if not o.ok]
        ledger = service.ledger()
        assert len(ledger) == len(orders)
        assert len({c.idempotency_key for c in ledger}) == len(orders)
        assert [json.loads(o.content)["payment_id"] for o in first] == [
            json.loads(o.content)["payment_id"] for o in again
        ]
        stats = service.stats()
        assert stats["lost_reply"] >= 1 and stats["error"] >= 1  # both kinds of failure really happened
        assert stats["replayed"] >= len(orders)  # the second turn was answered from the ledger


def test_a_non_idempotent_payment_without_a_key_is_never_retried() -> None:
    with api(faults=FaultPlan(fail_first=1)) as (service, client):
        box = GuardedToolbox([payment_tool(client)], default=rpc.ToolPolicy(idempotent=False))
        obs = box.call(ToolCall("c", "pay", json.dumps({"sku": "NR-1001", "amount": 1.0, "order": "O"})))
        assert obs.error == "ServiceError"
        assert service.stats()["error"] == 1 and service.ledger() == []


def test_an_agent_asking_for_an_unapproved_api_is_refused_and_the_refusal_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with api() as (service, client):
        box = GuardedToolbox([price_tool(client), payment_tool(client)], approved=["get_price"])
        with caplog.at_level("WARNING", logger="agentlab.rpc.contract"):
            result = run_agent("Pay 99.5 for NR-1002 on order ORD-1", model=offline_model(), tools=box, max_turns=2)
    assert service.ledger() == []
    refusals = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert any("'pay' is not an approved tool" in c for c in refusals), refusals
    assert "refused unapproved call pay" in caplog.text
