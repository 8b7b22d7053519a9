"""The A2A server: an agentlab agent other agents can delegate to (lab 06; needs the `a2a` extra).

    app = a2a_app(agent_card("researcher", url), ResearchAgent(model))
    serve(app, port=9100)           # card at http://127.0.0.1:9100/.well-known/agent-card.json

A2A is how one agent hands a task to another it did not write. The remote side publishes an *agent
card* (who it is, its skills, where and how to reach it) and runs each request as a *task* with a life
of its own, streamed to the caller as it changes:

    submitted ──▶ working ──▶ completed        (the answer comes as an artifact)
                         ├──▶ failed           (the agent could not answer)
                         └──▶ canceled         (the caller cancelled it)

`AgentExecutor` here runs one ReAct agent (`agentlab.agent.loop.run_agent`) per task, in a thread so the
server's event loop keeps streaming. Cancelling stops *waiting* for that thread and marks the task
canceled at once; the thread finishes its current step and its late result is dropped (a Python thread
cannot be killed — the course's "timeouts must really bound time" applies to the caller, who is free).

Versions: the server speaks A2A 1.0 and, on the same JSON-RPC endpoint, 0.3 (the SDK's compatibility
layer: `message/send`, `message/stream`, `tasks/get`, `tasks/cancel`; the card carries 0.3's `url` and
`protocolVersion` beside 1.0's `supportedInterfaces`), so clients of either version can delegate to it.

A message must carry the goal as text: one with no text (an empty text part, only data or files) is
answered with the protocol's invalid-params error (-32602) before any task is created.

Left out: authentication (serve on loopback), push notifications, input-required turns, gRPC and REST.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from a2a.helpers import new_task_from_user_message, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part, SendMessageRequest, TaskState
from a2a.types import Message as A2AMessage
from a2a.utils import TransportProtocol
from a2a.utils.errors import InvalidParamsError
from starlette.applications import Starlette

from agentlab.agent.loop import RunResult, run_agent
from agentlab.agent.tools import Tool
from agentlab.models.base import Model
from agentlab.wire import Message, ModelReply

__all__ = ["AgentExecutorAdapter", "Report", "ResearchAgent", "a2a_app", "agent_card", "goal_of", "serve"]


Report = Callable[[str], None]
"""Called with a short line after each model step; the server streams it as a `working` update."""


@dataclass(frozen=True)
class _Reporting:
    """A model that reports each step it takes (what the caller's live view shows)."""

    model: Model
    report: Report

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        reply = self.model.complete(messages, tools, tool_choice=tool_choice)
        calls = ", ".join(f"{c.name}({c.arguments[:80]})" for c in reply.tool_calls)
        self.report(f"calling {calls}" if calls else "answering")
        return reply


@dataclass(frozen=True)
class ResearchAgent:
    """What the server runs per task: a ReAct agent with the knowledge-base search (by default)."""

    model: Model
    tools: Callable[[], Sequence[Tool]] | None = None
    """Builds the agent's tools (default: the knowledge-base search)."""
    max_turns: int = 6
    system: str = "You are a researcher. Find the facts the goal asks for with your tools; cite documents."

    def __call__(self, goal: str, report: Report = lambda line: None) -> RunResult:
        if self.tools is None:
            from agentlab.agent.retrieval import search_tool  # noqa: PLC0415
            from agentlab.data import kb_index  # noqa: PLC0415  (the datasets load only when serving)

            tools: Sequence[Tool] = [search_tool(kb_index())]
        else:
            tools = self.tools()
        model = _Reporting(self.model, report)
        return run_agent(goal, model=model, tools=tools, max_turns=self.max_turns, system=self.system)


def agent_card(name: str, url: str, description: str = "", skills: Sequence[str] = ("research",)) -> AgentCard:
    """The card a client reads first: the agent's name, skills, and where to send JSON-RPC (`url`)."""
    return AgentCard(
        name=name,
        description=description or f"agentlab {name}: answers questions from the company knowledge base",
        version="1.0",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id=s, name=s, description=f"{s} with cited evidence", tags=["agentlab", s]) for s in skills],
        supported_interfaces=[  # one endpoint, two versions: 1.0 first (preferred), then 0.3 (its `url`)
            AgentInterface(protocol_binding=TransportProtocol.JSONRPC, protocol_version=version, url=url)
            for version in ("1.0", "0.3")
        ],
    )


@dataclass
class AgentExecutorAdapter(AgentExecutor):
    """Runs `agent(goal, report) -> RunResult` as an A2A task: submitted → working → completed/failed/canceled."""

    agent: Callable[[str, Report], RunResult]
    running: dict[str, asyncio.Future[RunResult]] = field(default_factory=dict)

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, context_id = context.task_id or "", context.context_id or ""
        if context.current_task is None and context.message is not None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))  # submitted
        updater = TaskUpdater(event_queue, task_id, context_id)
        goal = context.get_user_input()
        await updater.start_work(_say(f"working on: {goal[:200]}", context_id, task_id))
        loop = asyncio.get_running_loop()

        def report(line: str) -> None:  # from the agent's thread: hand the update to the server's loop
            message = _say(line, context_id, task_id)
            asyncio.run_coroutine_threadsafe(updater.update_status(TaskState.TASK_STATE_WORKING, message), loop)

        # the agent blocks (model steps, tool calls): a thread keeps this loop free to stream and cancel
        run = loop.run_in_executor(None, self.agent, goal, report)
        self.running[task_id] = run
        try:
            result = await run
        except Exception as exc:  # the agent crashed: the task fails, the server lives on
            await updater.failed(_say(f"{type(exc).__name__}: {exc}", context_id, task_id))
            return
        finally:
            self.running.pop(task_id, None)
        if result.stop_reason != "answer":
            await updater.failed(_say(f"{result.stop_reason}: {result.answer}", context_id, task_id))
            return
        await updater.add_artifact([Part(text=result.answer)], name="answer")
        done = f"answered after {result.turns} act-observe turn(s)"
        await updater.complete(_say(done, context_id, task_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        run = self.running.pop(task_id, None)
        if run is not None:
            run.cancel()  # stop waiting for the thread; its late answer is dropped
        await TaskUpdater(event_queue, task_id, context.context_id or "").cancel()


def goal_of(request: SendMessageRequest) -> str:
    """The goal a message carries: its text parts joined; `InvalidParamsError` (-32602) if there is none."""
    texts = [part.text for part in request.message.parts if part.WhichOneof("content") == "text"]
    goal = "\n".join(texts).strip()
    if not goal:
        kinds = sorted({part.WhichOneof("content") or "empty" for part in request.message.parts}) or ["no parts"]
        raise InvalidParamsError(
            message=f"the message has no text ({', '.join(kinds)}): this agent takes its goal as a non-empty text part"
        )
    return goal


def _say(text: str, context_id: str, task_id: str) -> A2AMessage:
    """An agent message in this task (by keyword: the SDK's third positional parameter is the media type)."""
    return new_text_message(text, context_id=context_id, task_id=task_id)


class _Handler(DefaultRequestHandler):
    """The SDK's handler, refusing messages without a goal before any task exists (for 1.0 and 0.3 alike)."""

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Any:
        goal_of(params)
        return await super().on_message_send(params, context)

    async def on_message_send_stream(self, params: SendMessageRequest, context: ServerCallContext) -> Any:
        goal_of(params)
        async for event in super().on_message_send_stream(params, context):
            yield event


def a2a_app(card: AgentCard, agent: Callable[[str, Report], RunResult]) -> Starlette:
    """A Starlette app: the card at /.well-known/agent-card.json and JSON-RPC (with SSE streaming) at /,
    for A2A 1.0 and 0.3 clients."""
    handler = _Handler(agent_executor=AgentExecutorAdapter(agent), task_store=InMemoryTaskStore(), agent_card=card)
    rpc = create_jsonrpc_routes(request_handler=handler, rpc_url="/", enable_v0_3_compat=True)
    return Starlette(routes=[*create_agent_card_routes(agent_card=card), *rpc])


def serve(app: Any, port: int, host: str = "127.0.0.1", log_level: str = "warning") -> None:
    """Serve `app` until interrupted (blocks). Loopback by default: A2A here has no authentication."""
    import uvicorn  # noqa: PLC0415

    uvicorn.run(app, host=host, port=port, log_level=log_level)
