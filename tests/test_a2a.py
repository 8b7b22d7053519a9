"""Delegating sub-tasks to remote A2A agents: `agentlab a2a serve` on loopback, followed state by state.

Two real servers run as subprocesses: a quick research agent, and one whose every model step takes
60 s (so its tasks stay `working` until someone cancels them).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState
from a2a.utils.errors import InvalidParamsError
from distributed import Client
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Value

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
def quick_server() -> Iterator[Background]:
    with _serve("researcher", 0.0) as server:
        yield server


@pytest.fixture(scope="module")
def quick(quick_server: Background) -> RemoteAgent:
    return RemoteAgent(quick_server.ready.split("/.well-known")[0], "researcher")


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


def _v03_send(url: str, parts: list[dict[str, object]]) -> dict[str, Any]:
    """A2A 0.3 `message/send`, as raw JSON-RPC of the 0.3 spec (no SDK on this side)."""
    message = {"kind": "message", "messageId": uuid.uuid4().hex, "role": "user", "parts": parts}
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}}
    reply: dict[str, Any] = httpx.post(url, json=body, timeout=120).json()
    return reply


def test_an_a2a_0_3_client_reads_the_card_and_delegates(quick: RemoteAgent) -> None:
    card = httpx.get(f"{quick.base}/.well-known/agent-card.json", timeout=10).json()
    assert card["url"] == f"{quick.base}/" and card["protocolVersion"] == "0.3"  # what a 0.3 client reads
    assert {i["protocolVersion"] for i in card["supportedInterfaces"]} == {"1.0", "0.3"}  # and a 1.0 client
    question = demo_question()
    task = _v03_send(card["url"], [{"kind": "text", "text": question.question}])["result"]
    assert task["kind"] == "task" and task["status"]["state"] == "completed"
    answer = " ".join(p["text"] for a in task["artifacts"] for p in a["parts"] if p["kind"] == "text")
    assert question.is_answered_by(answer)
    agent_says = [m for m in task["history"] if m["role"] == "agent"]
    assert agent_says and all(m["contextId"] == task["contextId"] for m in agent_says)


def test_the_sdks_own_0_3_transport_gets_an_answer(quick: RemoteAgent) -> None:
    from a2a.compat.v0_3.jsonrpc_transport import CompatJsonRpcTransport

    async def send() -> Any:
        async with httpx.AsyncClient(timeout=120) as http:
            transport = CompatJsonRpcTransport(http, None, f"{quick.base}/")
            message = Message(
                role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text=demo_question().question)]
            )
            return await transport.send_message(SendMessageRequest(message=message))

    reply = asyncio.run(send())
    assert reply.task.status.state == TaskState.TASK_STATE_COMPLETED
    assert demo_question().is_answered_by(" ".join(p.text for a in reply.task.artifacts for p in a.parts))


@pytest.mark.parametrize(
    ("parts_0_3", "parts_1_0"),
    [
        ([{"kind": "text", "text": ""}], [Part(text="")]),  # an empty text part
        ([{"kind": "data", "data": {"goal": "x"}}], [Part(data=ParseDict({"goal": "x"}, Value()))]),  # data only
    ],
)
def test_a_message_without_text_is_the_protocols_invalid_params_error(
    quick_server: Background, quick: RemoteAgent, parts_0_3: list[dict[str, object]], parts_1_0: list[Part]
) -> None:
    error = _v03_send(f"{quick.base}/", parts_0_3)["error"]
    assert error["code"] == -32602 and "no text" in error["message"]

    async def send_1_0() -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            card = await A2ACardResolver(http, quick.base).get_agent_card()
            client = ClientFactory(ClientConfig(httpx_client=http, streaming=False)).create(card)
            message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=parts_1_0)
            async for _ in client.send_message(SendMessageRequest(message=message)):
                pass

    with pytest.raises(InvalidParamsError, match="no text"):
        asyncio.run(send_1_0())
    assert "Traceback" not in quick_server.logs()
