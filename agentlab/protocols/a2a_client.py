"""Delegating to a remote A2A agent: allowlisted, followed state by state, cancelled on timeout (lab 06).

    agent = RemoteAgent("http://127.0.0.1:9100", name="researcher")
    delegation = delegate(agent, "What was the root cause of INC-2041?", timeout=30)
    delegation.state, delegation.answer, delegation.updates      # "completed", "...", [submitted, working, ...]

    runner = A2ARunner({"researcher": agent}, local=AgentRunner(model))   # a supervisor's executor
    Supervisor(client, model, runner=runner).run(goal)

Before sending anything, `delegate` reads the agent's card and refuses (`NotApproved`) a URL that is not
allowlisted, a card whose name is not the one allowlisted for that URL, and a card that sends its
traffic somewhere else: URLs are compared by parsed origin (scheme, host, port; `agentlab.protocols.origins`),
userinfo is refused, and so is any redirect (the card's or the JSON-RPC endpoint's). Then it sends the
goal as a streaming message and records every state the remote
task passes through (submitted, working, completed, failed, canceled, ...) as a `TaskUpdate`. If the
task has not finished within `timeout`, the caller stops waiting *and* asks the remote agent to cancel
it — unlike a local thread, a remote task can really be stopped.

`A2ARunner` is a runner (`runner(work) -> SubTaskResult`): sub-tasks whose role is mapped to a remote
agent are delegated, the others go to `local`. Each update becomes a trace event of the sub-task
(who = "a2a:<agent>"), so the Gantt chart and the run's trace show the remote task's life.
Left out: authentication, push notifications, input-required turns (answered as a failure).
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from a2a.client import A2ACardResolver, A2AClientTimeoutError, ClientConfig, ClientFactory
from a2a.helpers import get_artifact_text, get_message_text
from a2a.types import AgentCard, CancelTaskRequest, Message, Part, Role, SendMessageRequest, StreamResponse, TaskState
from a2a.utils.errors import A2AError
from distributed import Client, get_worker

from agentlab.errors import NotApproved, ServiceError
from agentlab.events import Observer, RemoteUpdate, RoundEvent
from agentlab.fanout.runners import Runner, where
from agentlab.identity import Work
from agentlab.protocols.origins import origin, same_origin
from agentlab.steps import SubTask, SubTaskResult, SubTaskState
from agentlab.trace import Event

__all__ = ["TOPIC", "A2ARunner", "Delegation", "RemoteAgent", "TaskUpdate", "adelegate", "delegate", "follow"]

T = TypeVar("T")
TERMINAL = frozenset({"completed", "failed", "canceled", "rejected"})


@dataclass(frozen=True)
class RemoteAgent:
    """An allowlisted remote agent: its base URL and the name its card must carry."""

    url: str
    name: str

    @property
    def base(self) -> str:
        return self.url.rstrip("/")


@dataclass(frozen=True)
class TaskUpdate:
    """One thing the remote task told us: its state (short name) and any text, at a time."""

    state: str
    text: str
    at: float


@dataclass
class Delegation:
    """How a delegated task went: the last state, the answer (if completed) and every update on the way."""

    agent: RemoteAgent
    goal: str
    task_id: str = ""
    state: str = "unsent"
    answer: str = ""
    updates: list[TaskUpdate] = field(default_factory=list)
    start: float = field(default_factory=time.time)
    end: float = 0.0

    @property
    def states(self) -> list[str]:
        """The distinct states in the order they were reached."""
        return list(dict.fromkeys(u.state for u in self.updates))

    def events(self, run_id: str) -> list[Event]:
        """Each update as a trace row, plus one row spanning the whole delegation."""
        who = f"a2a:{self.agent.name}"
        rows = [
            Event(run_id, who, f"{u.state}: {u.text}"[:200], u.at, u.at, u.state, u.text[:500]) for u in self.updates
        ]
        span = Event(run_id, who, f"task {self.task_id} at {self.agent.base}", self.start, self.end, self.state)
        return [span, *rows]


def _state(value: int) -> str:
    """TASK_STATE_INPUT_REQUIRED → "input_required"."""
    return str(TaskState.Name(value)).removeprefix("TASK_STATE_").lower()


def _record(delegation: Delegation, event: StreamResponse) -> None:
    now = time.time()
    if event.HasField("task"):
        delegation.task_id = event.task.id
        text = "\n".join(get_artifact_text(a) for a in event.task.artifacts)
        delegation.updates.append(TaskUpdate(_state(event.task.status.state), text, now))
        if event.task.artifacts:
            delegation.answer = text
    elif event.HasField("status_update"):
        delegation.task_id = event.status_update.task_id
        status = event.status_update.status
        text = get_message_text(status.message) if status.HasField("message") else ""
        delegation.updates.append(TaskUpdate(_state(status.state), text, now))
    elif event.HasField("artifact_update"):
        text = get_artifact_text(event.artifact_update.artifact)
        delegation.answer = f"{delegation.answer}{text}" if event.artifact_update.append else text
        delegation.updates.append(TaskUpdate("artifact", text, now))
    elif event.HasField("message"):  # an agent may answer at once, without a task
        delegation.answer = get_message_text(event.message)
        delegation.updates.append(TaskUpdate("completed", delegation.answer, now))
    if delegation.updates and delegation.updates[-1].state != "artifact":
        delegation.state = delegation.updates[-1].state


async def _checked_card(http: httpx.AsyncClient, agent: RemoteAgent) -> AgentCard:
    """The agent's card, refused unless it is the allowlisted agent and keeps its traffic at its origin."""
    card = await A2ACardResolver(http, agent.base).get_agent_card()
    if card.name != agent.name:
        raise NotApproved(f"the agent card at {agent.base} names {card.name!r}, not the allowlisted {agent.name!r}")
    elsewhere = [i.url for i in card.supported_interfaces if not same_origin(i.url, agent.base)]
    if elsewhere:
        raise NotApproved(f"the agent card at {agent.base} sends requests elsewhere ({elsewhere[0]}); refused")
    return card


async def _no_redirects(response: httpx.Response) -> None:
    """An httpx response hook: a redirect could lead anywhere the allowlist never saw, so it is refused."""
    if response.is_redirect:
        where = response.headers.get("location", "?")
        raise NotApproved(f"{response.request.url} redirected ({response.status_code}) to {where}; refused")


async def adelegate(
    agent: RemoteAgent,
    goal: str,
    *,
    timeout: float = 60.0,
    allow: Mapping[str, RemoteAgent] | None = None,
    http: httpx.AsyncClient | None = None,
    on_update: Callable[[TaskUpdate], None] | None = None,
) -> Delegation:
    """Send `goal` to `agent`, follow its task to a final state, cancel it if `timeout` passes first.

    `allow` (URL → agent) is the allowlist; by default the agent passed is the only one allowed.
    Refusals raise `NotApproved`; an agent that cannot be reached or answers with an error raises
    `ServiceError` (retryable if the connection failed or timed out, or it said 429 or 5xx). A remote task
    that fails or is cancelled is a `Delegation` in that state, not an exception.
    """
    allowed = allow if allow is not None else {agent.base: agent}
    origin(agent.base)  # the allowlisted URL itself must not hide where it goes
    if allowed.get(agent.base) != agent:
        raise NotApproved(f"{agent.base} ({agent.name}) is not an allowlisted remote agent; refused")
    if http is not None and http.follow_redirects:
        raise NotApproved("an httpx client that follows redirects could leave the allowlist; refused")
    delegation = Delegation(agent, goal)
    told = 0

    def tell() -> None:  # pass each new update on as it happens (the live view)
        nonlocal told
        for update in delegation.updates[told:]:
            if on_update is not None:
                on_update(update)
        told = len(delegation.updates)

    own = http is None
    http = http or httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=5.0), follow_redirects=False, event_hooks={"response": [_no_redirects]}
    )
    try:
        card = await _checked_card(http, agent)
        client = ClientFactory(ClientConfig(httpx_client=http, streaming=True)).create(card)
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text=goal)])
        try:
            async with asyncio.timeout(timeout):
                async for event in client.send_message(SendMessageRequest(message=message)):
                    _record(delegation, event)
                    tell()
                    if delegation.state in TERMINAL:
                        break
        except TimeoutError:
            await _cancel(client, delegation, timeout)
            tell()
    except (A2AError, httpx.HTTPError) as exc:  # the SDK's and httpx's errors end here, in agentlab's words
        raise _service_error(agent, exc) from exc
    finally:
        delegation.end = time.time()
        if own:
            await http.aclose()
    return delegation


def _service_error(agent: RemoteAgent, exc: Exception) -> ServiceError:
    """A failed exchange with `agent` as a `ServiceError`: retryable when the connection failed or timed out
    (the SDK wraps httpx's error: its causes are searched), or when the agent answered 429 or 5xx."""
    status, transient = None, False
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, httpx.HTTPStatusError):
            status = cause.response.status_code
        transient = transient or isinstance(cause, httpx.TransportError | A2AClientTimeoutError)
        cause = cause.__cause__
    retryable = transient or status == 429 or (status or 0) >= 500
    return ServiceError(f"the A2A agent {agent.name} at {agent.base} failed: {exc}", status=status, retryable=retryable)


async def _cancel(client: object, delegation: Delegation, timeout: float) -> None:
    """Past the deadline: ask the remote agent to cancel, and record what it says."""
    delegation.updates.append(TaskUpdate("timeout", f"no final state within {timeout:g} s: cancelling", time.time()))
    delegation.state = "timeout"
    if not delegation.task_id:
        return  # the remote agent never even created the task
    try:
        async with asyncio.timeout(5.0):
            task = await client.cancel_task(CancelTaskRequest(id=delegation.task_id))  # type: ignore[attr-defined]
        delegation.updates.append(
            TaskUpdate(_state(task.status.state), "cancelled on the caller's timeout", time.time())
        )
    except Exception as exc:  # the cancel itself failed: say so, the caller has stopped waiting anyway
        delegation.updates.append(TaskUpdate("cancel_failed", f"{type(exc).__name__}: {exc}", time.time()))


def delegate(
    agent: RemoteAgent, goal: str, *, timeout: float = 60.0, allow: Mapping[str, RemoteAgent] | None = None
) -> Delegation:
    """`adelegate` for synchronous code: a worker thread, a script, or a notebook cell (whose loop is busy)."""
    return _run(lambda: adelegate(agent, goal, timeout=timeout, allow=allow))


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end: here, or on a helper thread when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@dataclass(frozen=True)
class A2ARunner:
    """A supervisor's runner: roles in `agents` are delegated to remote A2A agents, the rest run on `local`."""

    agents: Mapping[str, RemoteAgent]
    local: Runner | None = None
    timeout: float = 60.0
    """Seconds a delegated sub-task may take; after that the remote task is cancelled (state "timeout")."""

    def __call__(self, work: Work) -> SubTaskResult:
        if work.task.role not in self.agents:
            return self._local(work)
        return _run(lambda: self.arun(work))

    async def arun(self, work: Work) -> SubTaskResult:
        if work.task.role not in self.agents:
            arun = getattr(self.local, "arun", None)  # a local runner that can wait without a thread
            return await arun(work) if arun is not None else await asyncio.to_thread(self._local, work)
        agent, task, worker = self.agents[work.task.role], work.task, where()
        goal = f"{task.goal}\n\n{work.findings}" if work.findings else task.goal
        start = time.time()
        allow = {a.base: a for a in self.agents.values()}
        publish = functools.partial(_publish, work, agent)
        try:
            delegation = await adelegate(agent, goal, timeout=self.timeout, allow=allow, on_update=publish)
        except Exception as exc:  # refused, unreachable: this sub-task fails, its siblings carry on
            return work.result(
                "failed", "", f"{type(exc).__name__}: {exc}", worker=worker, start=start, end=time.time()
            )
        events = tuple(delegation.events(f"{work.run_id}/{task.id}"))
        if delegation.state == "completed":
            return work.result("done", delegation.answer, worker=worker, start=start, end=time.time(), events=events)
        state: SubTaskState = "timeout" if delegation.state == "timeout" else "failed"
        last = delegation.updates[-1].text if delegation.updates else ""
        why = f"the remote agent {agent.name} ended in {delegation.state}: {last}"
        return work.result(state, "", why, worker=worker, start=start, end=time.time(), events=events)

    def _local(self, work: Work) -> SubTaskResult:
        if self.local is None:
            return work.result("failed", "", f"no agent for the role {work.task.role!r}", worker=where())
        return self.local(work)


TOPIC = "agentlab.a2a"
"""The Dask event topic on which runners on the workers publish the states of their delegated tasks."""


def _publish(work: Work, agent: RemoteAgent, update: TaskUpdate) -> None:
    """Tell the client, live, how a delegated sub-task is doing (a Dask event; nothing outside a worker)."""
    try:
        worker = get_worker()
    except ValueError:
        return  # not on a worker: the trace still gets every update
    task = work.task
    message = {"run_id": work.run_id, "task": task.id, "role": task.role, "agent": agent.name}
    worker.log_event(TOPIC, {**message, "state": update.state, "text": update.text[:200], "at": update.at})


def follow(client: Client, observer: Observer, run_id: str | None = None) -> None:
    """Pass the remote states of delegated sub-tasks to `observer` as they happen.

    `observer` is called like a supervisor's observers, with a `RoundEvent` of kind "remote" whose `remote`
    holds the agent, its state, its text and when — so a live view can show "working" or "canceled" on the
    remote side while the sub-task still runs here. Only sub-tasks of `run_id` when it is given.
    """

    def handler(event: tuple[float, dict[str, Any]]) -> None:
        message = event[1]
        if run_id is not None and message.get("run_id") != run_id:
            return
        task = SubTask(message["task"], "", message["role"])
        update = RemoteUpdate(str(message["agent"]), str(message["state"]), str(message["text"]), float(message["at"]))
        observer(RoundEvent("remote", task, remote=update))

    client.subscribe_topic(TOPIC, handler)
