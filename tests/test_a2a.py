"""Delegating sub-tasks to remote A2A agents: `agentlab a2a serve` on loopback, followed state by state.

Two real servers run as subprocesses: a quick research agent, and one whose every model step takes
60 s (so its tasks stay `working` until someone cancels them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from distributed import Client

from agentlab.data import demo_goal, demo_question
from agentlab.errors import NotApproved, ServiceError
from agentlab.events import RoundEvent
from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import Supervisor
from agentlab.identity import Work, identify
from agentlab.models.chat import offline_model
from agentlab.protocols.a2a_client import A2ARunner, RemoteAgent, delegate, follow
from agentlab.protocols.background import Background, agentlab_command, free_port
from agentlab.steps import SubTask


def _serve(name: str, latency: float) -> Background:
    port = free_port()
    command = agentlab_command("a2a", "serve", "--port", str(port), "--name", name, "--latency", str(latency))
    return Background(command, ready=f"http://127.0.0.1:{port}/.well-known/agent-card.json")


@pytest.fixture(scope="module")
def quick() -> Iterator[RemoteAgent]:
    with _serve("researcher", 0.0) as server:
        yield RemoteAgent(server.ready.split("/.well-known")[0], "researcher")


@pytest.fixture(scope="module")
def slow() -> Iterator[RemoteAgent]:
    with _serve("deep-researcher", 60.0) as server:
        yield RemoteAgent(server.ready.split("/.well-known")[0], "deep-researcher")


def test_a_delegated_task_is_followed_through_its_states_to_completion(quick: RemoteAgent) -> None:
    question = demo_question()
    delegation = delegate(quick, question.question, timeout=120)
    assert delegation.state == "completed"
    assert question.is_answered_by(delegation.answer)
    states = delegation.states
    assert states[0] == "submitted" and states[-1] == "completed"
    assert states.index("submitted") < states.index("working") < states.index("artifact") < states.index("completed")
    streamed = [u.text for u in delegation.updates if u.state == "working"]
    assert any(text.startswith("calling search_kb") for text in streamed)  # each agent step, as it happened
    rows = delegation.events("r1")
    assert rows[0].who == "a2a:researcher" and rows[0].outcome == "completed"


def test_a_delegated_task_past_its_timeout_is_cancelled_remotely(slow: RemoteAgent) -> None:
    delegation = delegate(slow, demo_question().question, timeout=3.0)
    assert delegation.state == "timeout"
    assert delegation.states[-2:] == ["timeout", "canceled"]  # the remote agent confirmed the cancel


def test_unknown_agents_and_cards_are_refused(quick: RemoteAgent) -> None:
    impostor = RemoteAgent(quick.url, "payments-agent")
    with pytest.raises(NotApproved, match="names 'researcher'"):
        delegate(impostor, "pay everyone")  # the card at that URL is someone else's
    with pytest.raises(NotApproved, match="not an allowlisted"):
        delegate(quick, "hello", allow={})


def test_an_unreachable_agent_is_a_retryable_service_error_not_an_httpx_one() -> None:
    closed = RemoteAgent(f"http://127.0.0.1:{free_port()}", "researcher")  # nothing listens there
    with pytest.raises(ServiceError, match="the A2A agent researcher at") as raised:
        delegate(closed, "hello", timeout=10)
    assert raised.value.retryable and raised.value.status is None
    assert raised.value.__cause__ is not None  # the SDK's error, kept as the cause (the httpx style)


def test_a_runner_delegates_its_role_and_times_out_as_a_value(quick: RemoteAgent, slow: RemoteAgent) -> None:
    task = SubTask("r", demo_question().question)
    work = Work("a2a-runner", task, identify("a2a-runner", task))
    done = A2ARunner({"researcher": quick}, timeout=120)(work)
    assert done.state == "done" and demo_question().is_answered_by(done.value)
    assert {e.outcome for e in done.events} >= {"submitted", "working", "completed"}
    late = A2ARunner({"researcher": slow}, timeout=3.0)(work)
    assert late.state == "timeout" and "canceled" in {e.outcome for e in late.events}


def test_a_supervisor_delegates_research_sub_tasks_to_a_remote_agent(client: Client, quick: RemoteAgent) -> None:
    model = offline_model(seed=7, q=1.0)
    goal, truths = demo_goal()
    runner = A2ARunner({"researcher": quick}, local=AgentRunner(model), timeout=120)
    seen: list[tuple[str, str, str]] = []
    completed = threading.Event()

    def live(event: RoundEvent) -> None:  # what a live view is told
        assert event.remote is not None
        seen.append((event.kind, event.task.id, event.remote.state))
        if event.remote.state == "completed":
            completed.set()

    follow(client, live, run_id="a2a-supervisor")
    result = Supervisor(client, model, runner=runner).run(goal, run_id="a2a-supervisor")
    assert result.ok, result.answer
    remote = [r for r in result.results if r.role == "researcher"]
    assert remote and all(r.ok for r in remote)
    for r in remote:
        assert next(e.outcome for e in r.events if e.who == "a2a:researcher") == "completed"
    assert all(q.is_answered_by(result.answer) for q in truths)
    assert completed.wait(timeout=60), seen  # the states reached the client while the run went on
    assert {("remote", r.id, "working") for r in remote} <= set(seen)
