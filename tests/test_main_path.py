"""Tools as RPC on the main path: sub-tasks on a real process cluster hold every tool call to its contract.

A scripted model (the picklable, per-conversation form) drives the supervisor and its executors: the
executors run on the workers with their own copies of it, and call `get_price` on a real HTTP service
that fails on purpose. Their traces come back with each RPC attempt.
"""

from __future__ import annotations

from typing import Any

from distributed import Client

from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import FanOutResult, Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.rpc.contract import BreakerPolicy, RetryPolicy, ToolPolicy
from agentlab.rpc.faults import FaultPlan
from agentlab.services.api import ApiService
from agentlab.services.api_client import ApiClient, price_tool
from agentlab.testing import check_script
from agentlab.testing.scripted import ScriptedModel, calls, final

GOAL = "Find the live prices for the catalog"
PLAN = '{"subtasks": [{"id": "p1", "goal": "Look up NR-1001"}, {"id": "p2", "goal": "Look up NR-2002"}]}'


def _script(reply_after_price: str) -> ScriptedModel:
    return ScriptedModel(
        {
            "Findings of the sub-tasks": [calls(("finish", '{"answer": "priced"}'))],  # the reduce step
            GOAL: [calls(("make_plan", PLAN))],  # the planning step
            "Look up NR-1001": [calls(("get_price", '{"sku": "NR-1001"}')), final(reply_after_price)],
            "Look up NR-2002": [calls(("get_price", '{"sku": "NR-2002"}')), final(reply_after_price)],
        }
    )


def _run(client: Client, api: ApiService, model: ScriptedModel, policy: ToolPolicy) -> FanOutResult:
    toolkit = Toolkit(kb=False, extra=(price_tool(ApiClient(api.base_url)),), policies={"get_price": policy})
    return Supervisor(client, model, runner=AgentRunner(model, toolkit)).run(GOAL)


def _attempts(result: FanOutResult, sub_task: str) -> list[tuple[str, str, str]]:
    (found,) = [r for r in result.results if r.id == sub_task]
    return [
        (e.what.split(" key ")[0], e.what.split(" key ")[1], e.outcome)
        for e in found.events
        if e.who == "rpc:get_price"
    ]


def test_a_tool_call_is_retried_under_one_idempotency_key_with_its_attempts_in_the_trace(client: Client) -> None:
    prices = {"NR-1001": 10.0, "NR-2002": 20.0}
    retry = ToolPolicy(timeout=5.0, retry=RetryPolicy(attempts=3, base=0.01), service="prices-retry")
    model = _script("found the price")
    with ApiService(prices, faults=FaultPlan(fail_first=1)) as api:  # every request's first attempt fails
        result = _run(client, api, model, retry)
    assert result.stop_reason == "answer", result.timeline()
    for sub_task in ("p1", "p2"):
        attempts = _attempts(result, sub_task)
        assert [(a, o) for a, _, o in attempts] == [("attempt 1", "ServiceError"), ("attempt 2", "ok")]
        assert len({key for _, key, _ in attempts}) == 1  # one key for both attempts
    assert _attempts(result, "p1")[0][1] != _attempts(result, "p2")[0][1]  # another step, another key
    rpc = result.events_frame().query("who == 'rpc:get_price'")
    assert len(rpc) == 4 and "attempt 2" in result.rpc_table()
    check_script(model, result)  # every scripted reply was used, on whichever worker


def test_a_breaker_opens_on_the_worker_and_refuses_without_calling(client: Client) -> None:
    broken = ToolPolicy(
        timeout=5.0,
        retry=RetryPolicy(attempts=3, base=0.01),
        breaker=BreakerPolicy(failures=2, reset_after=600.0),
        service="prices-breaker",
    )
    with ApiService({"NR-1001": 10.0}, faults=FaultPlan(error_rate=1.0)) as api:
        result = _run(client, api, _script("the price service is down"), broken)
        served = api.stats()
    outcomes: list[Any] = [o for r in ("p1", "p2") for _, _, o in _attempts(result, r)]
    assert "circuit_open" in outcomes  # the third attempt on a worker found the circuit open
    assert outcomes.count("ServiceError") <= 4  # at most two failures per worker reached the service
    assert sum(served.values()) == outcomes.count("ServiceError"), served  # refusals never reached it
