"""An effect is named by its own content — the run, the tool, the validated arguments — never by the wording
of the sub-task that makes it: a payment whose reply was lost is charged once however the re-plan is worded.

The supervisor runs in-process (`InlineDispatcher`, fake clock) with real executors (`AgentRunner`, a
scripted model per conversation) paying at the real local HTTP payment service, which loses the replies
of the first attempts *after* charging.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlab.agent.tools import tool
from agentlab.durable.sqlite import SqliteJournal
from agentlab.errors import JournalMismatch
from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import FanOutResult, Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.identity import KEY_SCHEME, effect_key, identify, step_key
from agentlab.rpc.contract import RetryPolicy, ToolPolicy
from agentlab.rpc.faults import FaultPlan
from agentlab.rpc.guarded import GuardedToolbox, idempotency_key
from agentlab.services.api import ApiService
from agentlab.services.api_client import ApiClient, payment_tool
from agentlab.steps import SubTask
from agentlab.testing import InlineDispatcher, ScriptedModel, calls, check_script, final
from agentlab.wire import ToolCall

PAY = ToolPolicy(idempotent=False, forwards_key=True, retry=RetryPolicy(attempts=2, base=0.001))
LOST = 4
"""Replies lost per key: round 1's executor calls `pay` twice, two attempts each, and never hears back."""
PLAN = {
    "subtasks": [
        {"id": "p1", "goal": "Pay order ORD-1 for NR-1001", "role": "analyst"},
        {"id": "p2", "goal": "Pay order ORD-2 for NR-1001", "role": "analyst"},
    ]
}


def _pay(order: str, amount: str = "10") -> tuple[str, str]:
    return ("pay", f'{{"sku": "NR-1001", "amount": {amount}, "order": "{order}"}}')


def _executors(first: dict[str, str], second: dict[str, str]) -> ScriptedModel:
    """One script per goal (a key is a substring of the goal it answers). Round 1: pay, pay again, give
    up — the sub-task fails at its turn budget. Round 2, the re-plan: pay (spelling the amount 10.0), done."""
    script: dict[str, list[Any]] = {}
    for goal, order in second.items():
        script[goal] = [calls(_pay(order, "10.0")), final(f"paid {order}")]
    for goal, order in first.items():
        script[goal] = [calls(_pay(order)), calls(_pay(order)), final("the payment service never answered")]
    return ScriptedModel(script)


@pytest.fixture
def api() -> Iterator[ApiService]:
    with ApiService({"NR-1001": 10.0}, lost_reply=FaultPlan(fail_first=LOST)) as service:
        yield service


def _supervise(api: ApiService, replan: list[dict[str, str]], executors: ScriptedModel, run_id: str) -> FanOutResult:
    supervisor_model = ScriptedModel(
        [
            calls(("make_plan", json.dumps(PLAN))),
            calls(("replan", json.dumps({"subtasks": replan}))),
            calls(("finish", '{"answer": "both orders paid"}')),
        ]
    )
    inline = InlineDispatcher()
    with ApiClient(api.base_url) as client:
        toolkit = Toolkit(kb=False, sandbox=False, extra=(payment_tool(client),), policies={"pay": PAY})
        runner = AgentRunner(executors, toolkit, max_turns=2)
        result = Supervisor(None, supervisor_model, runner=runner, dispatch=inline, clock=inline.clock).run(
            "Settle orders ORD-1 and ORD-2", run_id=run_id
        )
    check_script(supervisor_model, result)
    check_script(executors, result)
    return result


def _charged_once_per_order(api: ApiService, result: FanOutResult) -> None:
    ledger = api.ledger()
    assert sorted(c.order for c in ledger) == ["ORD-1", "ORD-2"], ledger  # once per order, not once per wording
    first, second = result.plans[0].tasks, result.plans[1].tasks
    states = {r.id: r.state for r in result.results}
    assert [states[t.id] for t in first] == ["failed", "failed"], result.timeline()  # the replies were lost
    assert [states[t.id] for t in second] == ["done", "done"], result.timeline()  # the first charge, replayed
    assert api.stats()["lost_reply"] == 2 * LOST and api.stats()["replayed"] == 2
    assert result.stop_reason == "answer"


def test_a_reworded_re_plan_of_a_lost_payment_is_charged_once(api: ApiService) -> None:
    replan = [
        {"id": "p1b", "goal": "Pay  order ORD-1 for NR-1001", "role": "analyst", "replaces": "p1"},
        {"id": "p2b", "goal": "Pay order\nORD-2 for NR-1001", "role": "analyst", "replaces": "p2"},
    ]
    executors = _executors(
        {"Pay order ORD-1": "ORD-1", "Pay order ORD-2": "ORD-2"},
        {"Pay  order ORD-1": "ORD-1", "Pay order\nORD-2": "ORD-2"},
    )
    result = _supervise(api, replan, executors, "effects-reworded")
    assert [t.origin for t in result.plans[1].tasks] == ["p1", "p2"]  # the same planned work, other words
    _charged_once_per_order(api, result)


def test_a_re_plan_under_an_invented_id_that_pays_the_same_order_is_charged_once(api: ApiService) -> None:
    replan = [
        {"id": "settle-1", "goal": "Settle ORD-1: charge NR-1001", "role": "analyst"},
        {"id": "settle-2", "goal": "Settle ORD-2: charge NR-1001", "role": "analyst"},
    ]
    executors = _executors(
        {"Pay order ORD-1": "ORD-1", "Pay order ORD-2": "ORD-2"},
        {"Settle ORD-1": "ORD-1", "Settle ORD-2": "ORD-2"},
    )
    result = _supervise(api, replan, executors, "effects-invented")
    assert [t.origin for t in result.plans[1].tasks] == ["settle-1", "settle-2"]  # no link to round 1 at all
    _charged_once_per_order(api, result)


def test_the_key_is_made_from_the_validated_arguments_not_their_spelling() -> None:
    seen: list[str | None] = []

    @tool
    def charge(amount: float, order: str, tags: dict[str, Any], note: str = "") -> str:
        """A payment.

        Args:
            amount: how much.
            order: which order.
            tags: free-form labels.
            note: a remark.
        """
        seen.append(idempotency_key())
        return "ok"

    def keyed(box: GuardedToolbox, arguments: str) -> str | None:
        assert box.call(ToolCall("c", "charge", arguments)).ok
        return seen[-1]

    policy = {"charge": ToolPolicy(idempotent=False, forwards_key=True)}
    box = GuardedToolbox([charge], policy, run_id="r", path="settle")
    first = keyed(box, '{"amount": 10, "order": "ORD-1", "tags": {"a": 1, "b": 2}}')
    assert first is not None
    # another number spelling, other key orders, a default spelled out, other whitespace: the same call
    assert keyed(box, '{"tags": {"b": 2.0, "a": 1}, "order": "ORD-1", "note": "", "amount": 10.0}') == first
    assert keyed(box, '{ "order" : "ORD-1",\n "amount": 1e1, "tags": {"a": 1, "b": 2} }') == first
    assert keyed(box, '{"amount": 10, "order": "ORD-2", "tags": {"a": 1, "b": 2}}') != first  # another order
    assert keyed(box, '{"amount": 10.5, "order": "ORD-1", "tags": {"a": 1, "b": 2}}') != first  # another amount


def test_a_reworded_goal_was_another_key_and_is_now_the_same_effect() -> None:
    planned = SubTask("p1", "Pay order ORD-1 for NR-1001")
    rewordings = [
        SubTask("p1b", "Pay  order ORD-1 for NR-1001", round=2, replaces="p1", origin="p1"),
        SubTask("p1c", "Pay order\nORD-1 for NR-1001", round=2, replaces="p1", origin="p1"),
        SubTask("settle-1", "Settle ORD-1: charge NR-1001", round=2),
    ]
    payment = {"sku": "NR-1001", "amount": 10.0, "order": "ORD-1"}

    def scheme_2(task: SubTask) -> str:  # the key before: made from the sub-task's work, its goal included
        return step_key("run", identify("run", task).work, "pay", payment)

    assert len({scheme_2(t) for t in [planned, *rewordings]}) == 4  # one charge per wording
    with ApiClient("http://127.0.0.1:9") as client:  # keys only: nothing is sent
        pay = payment_tool(client)
        toolkit = Toolkit(extra=(pay,))
        keys = {toolkit.toolbox("analyst", identify("run", t)).key(pay, payment) for t in [planned, *rewordings]}
    assert keys == {effect_key("run", "pay", payment)}  # one effect, whoever asks for it
    assert effect_key("run", "pay", {**payment, "order": "ORD-2"}) not in keys  # another order, another payment
    assert effect_key("another-run", "pay", payment) not in keys  # effects are scoped by their run


def test_a_run_journaled_under_the_goal_worded_keys_is_refused(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite")
    journal.start_run("old-run", "Settle orders", {"key_scheme": 2})  # resumed, it would pay again under new keys
    inline = InlineDispatcher()
    supervisor = Supervisor(None, ScriptedModel([]), dispatch=inline, clock=inline.clock, journal=journal)
    assert KEY_SCHEME == 3
    with pytest.raises(JournalMismatch, match="key scheme 2"):
        supervisor.run("Settle orders", run_id="old-run")
