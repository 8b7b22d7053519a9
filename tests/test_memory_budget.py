"""Cluster-wide budgets: the pure admit decision, a model that stops the loop with "budget", and agents on several
workers spending one token budget that is never exceeded."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from distributed import Client

from agentlab.agent.loop import run_agent
from agentlab.agent.retrieval import Document, Index, search_tool
from agentlab.errors import BudgetExhausted
from agentlab.fanout.supervisor import Supervisor
from agentlab.memory import Blackboard, Budget, BudgetedModel, SharedBudget, Spend
from agentlab.memory.budget import admit, estimate_tokens
from agentlab.memory.workloads import agent_outcome
from agentlab.models.chat import offline_model
from agentlab.testing import FakeClock
from agentlab.testing.scripted import ScriptedModel, calls, final
from agentlab.wire import ModelReply

DOCS = [Document("d-1", "Incident INC-1001", "The root cause of INC-1001 was a full disk on the Orion Gateway.")]


def test_a_step_is_admitted_only_if_its_reservation_fits_beside_what_is_spent_and_in_flight() -> None:
    budget = Budget(tokens=1000, completion_allowance=100)
    assert admit(budget, Spend(tokens=500, reserved_tokens=300), prompt_tokens=100, now=0).ok  # 500+300+200
    refused = admit(budget, Spend(tokens=500, reserved_tokens=300), prompt_tokens=101, now=0)
    assert (refused.ok, refused.reason, refused.wait) == (False, "tokens", 0.0)


def test_cost_is_priced_per_thousand_tokens() -> None:
    budget = Budget(cost=0.01, price_per_1k_prompt=1.0, price_per_1k_completion=2.0, completion_allowance=0)
    assert admit(budget, Spend(cost=0.0), prompt_tokens=10, now=0).ok
    assert admit(budget, Spend(cost=0.0), prompt_tokens=11, now=0).reason == "cost"


def test_a_full_requests_per_minute_window_says_how_long_to_wait() -> None:
    budget = Budget(requests_per_minute=2)
    full = Spend(recent=(100.0, 130.0))
    decision = admit(budget, full, prompt_tokens=1, now=140.0)
    assert (decision.ok, decision.reason, decision.wait) == (False, "requests_per_minute", 20.0)
    assert admit(budget, full, prompt_tokens=1, now=160.5).ok  # the oldest left the window


def test_the_prompt_estimate_is_from_above() -> None:
    messages = [{"role": "user", "content": "what was the root cause of INC-1001?"}]
    assert estimate_tokens(messages) >= len(messages[0]["content"].split())


class _Usage(ScriptedModel):
    """A scripted model whose replies report `tokens` of usage each."""

    def __init__(self, replies: list[ModelReply], tokens: int) -> None:
        super().__init__(
            [
                ModelReply(r.content, r.tool_calls, r.finish_reason, {"prompt_tokens": tokens, "completion_tokens": 0})
                for r in replies
            ]
        )


def test_the_loop_ends_gracefully_with_budget_when_the_budget_runs_out(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("b", tokens=600, completion_allowance=50))
    search = calls(("search_kb", '{"query": "INC-1001"}'))
    model = BudgetedModel(_Usage([search] * 10, tokens=150), shared)
    result = run_agent("What was the root cause of INC-1001?", model=model, tools=[search_tool(Index(DOCS))])
    assert result.stop_reason == "budget" and "budget" in result.answer
    spent = shared.spend()
    assert spent.tokens <= 600 and spent.reserved_tokens == 0 and spent.refused == 1
    with pytest.raises(BudgetExhausted) as caught:
        model.complete([{"role": "user", "content": "a long question " * 100}], [])  # ~400 tokens: more than is left
    assert caught.value.limit == "tokens"


def test_requests_per_minute_waits_on_the_injected_clock(tmp_path: Path) -> None:
    clock = FakeClock(start=0.0)
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("rpm", requests_per_minute=2), clock=clock)
    model = BudgetedModel(_Usage([final("ok")] * 3, tokens=1), shared, sleep=clock.sleep)
    for _ in range(3):
        model.complete([{"role": "user", "content": "hi"}], [])
    assert clock.slept == [60.0] and shared.spend().requests == 3
    impatient = BudgetedModel(
        _Usage([final("ok")] * 2, tokens=1),
        SharedBudget(board.server, Budget("rpm", requests_per_minute=2, max_wait=1.0), clock=clock),
        sleep=clock.sleep,
    )
    impatient.complete([{"role": "user", "content": "hi"}], [])  # the window holds one request: room for one more
    with pytest.raises(BudgetExhausted):  # full again, and the wait (60 s) is longer than max_wait
        impatient.complete([{"role": "user", "content": "hi"}], [])


def test_a_failed_model_step_releases_its_reservation(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("rel", tokens=10_000))
    broken = BudgetedModel(
        offline_model().with_options(base_url="http://127.0.0.1:9/v1", offline=None, max_retries=0, timeout=2.0), shared
    )
    result = run_agent("anything", model=broken)
    assert result.stop_reason == "model_error"
    assert shared.spend().reserved_tokens == 0 and shared.spend().tokens == 0


@pytest.mark.slow
def test_agents_on_several_workers_never_exceed_one_token_budget(client: Client, tmp_path: Path) -> None:
    board = Blackboard.open(client, "run", server=f"budget-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "m.sqlite"))
    limit = 2_000
    shared = SharedBudget(board.server, Budget("cluster", tokens=limit, completion_allowance=64))
    model = BudgetedModel(offline_model(q=0.25), shared)  # q=0.25: agents search several turns before answering
    tools = [search_tool(Index(DOCS))]
    goals = [f"What was the root cause of INC-1001? (agent {i})" for i in range(12)]
    futures = [client.submit(agent_outcome, goal, model, tools, pure=False) for goal in goals]
    results = client.gather(futures)
    spent = shared.spend()
    board.server.stop(client)
    assert len({r["pid"] for r in results}) == 2  # the agents ran on both workers
    assert spent.tokens <= limit and spent.reserved_tokens == 0
    reasons = [r["stop_reason"] for r in results]
    assert "budget" in reasons and set(reasons) <= {"answer", "budget", "max_turns"}
    assert spent.refused >= reasons.count("budget")


@pytest.mark.slow
def test_a_supervised_fan_out_that_exhausts_its_budget_ends_with_budget(client: Client, tmp_path: Path) -> None:
    board = Blackboard.open(client, "run", server=f"budget-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "m.sqlite"))
    shared = SharedBudget(board.server, Budget("supervised", tokens=700, completion_allowance=64))
    try:
        result = Supervisor(client, BudgetedModel(offline_model(), shared)).run(
            "What were the root causes of INC-2108 and INC-2181?"
        )
        spent = shared.spend()
    finally:
        board.server.stop(client)
    assert result.stop_reason == "budget" and "budget" in result.answer
    assert spent.tokens <= 700 and spent.reserved_tokens == 0
