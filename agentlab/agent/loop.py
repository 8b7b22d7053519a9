"""The ReAct loop: reason → act → observe until a final answer (lab 01; Figure 40.6.1).

    1. Reason: one model step sees the goal, the tools and every observation so far.
    2. If it called `give_up`, stop: the run ends "gave_up", its reason attached (not an answer).
       If it asked for no tools, its content is the final answer: stop.
    3. Act: run the turn's tool calls (in parallel when there are several); bad calls become
       error observations, never exceptions.
    4. Observe: append one tool message per call, and go back to 1. (A model with a small context window
       is sent this conversation fitted into it, `agentlab.models.context`; the trace says what it left out.)
    5. At the turn budget, ask once more with tools switched off, so the run still ends with its best
       effort and the reason it stopped ("max_turns": a best effort, not an answer).

Whenever the agent has tools, the loop also offers the reserved tool `give_up(reason)`
(`agentlab.wire.GIVE_UP_TOOL`): a model that cannot finish says so on the wire, and the run says so too,
instead of passing its apology off as an answer. The loop never runs it, and refuses an agent tool of that name.

Each step is an event in the run's trace. The loop keeps no state outside this call, so an agent
(model + tools) pickles cleanly to a Dask worker.

The loop is written once, as a generator that asks for each model step and each tool turn; two drivers
carry those out. `run_agent` calls them in the caller's thread. `arun_agent` awaits them: a model with
`acomplete` (the offline model, through `openai.AsyncOpenAI`) waits without a thread, so a lane runs a
thousand agents on one worker's event loop instead of on a thousand threads fighting for the GIL.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from agentlab.agent.tools import Observation, Tool, Toolbox
from agentlab.errors import AgentlabError, UsageError
from agentlab.models.base import Model
from agentlab.models.blocking import run_blocking
from agentlab.models.context import context_note
from agentlab.steps import StopReason
from agentlab.trace import Trace
from agentlab.wire import (
    GIVE_UP,
    GIVE_UP_TOOL,
    Message,
    ModelReply,
    assistant_message,
    give_up_reason,
    tool_message,
)

__all__ = ["Act", "Reason", "RunResult", "Step", "arun_agent", "offered", "run_agent"]


@dataclass
class RunResult:
    """How a run ended: the answer, why it stopped, the conversation and the trace."""

    answer: str
    stop_reason: StopReason
    """"answer" (the model finished), "gave_up" (the model said it cannot), "max_turns" (turn limit),
    "model_error" (endpoint failed), ... (`agentlab.steps.STOP_REASONS`)."""
    turns: int
    """Act-observe turns taken (model steps that called tools)."""
    messages: list[Message] = field(repr=False)
    trace: Trace = field(repr=False)
    error: str | None = None
    """Why the run did not answer (the model's reason, for "gave_up"); None for an answer."""

    def to_frame(self) -> pd.DataFrame:
        return self.trace.to_frame()

    def _repr_html_(self) -> str:
        return f"<p><b>{self.stop_reason}</b> after {self.turns} turn(s): {self.answer}</p>" + self.trace._repr_html_()


@dataclass(frozen=True)
class Reason:
    """The loop asks its driver for one model step on these messages; the driver sends back a ModelReply."""

    messages: list[Message]
    tool_choice: str = "auto"


@dataclass(frozen=True)
class Act:
    """The loop asks its driver to run this reply's tool calls; the driver sends back a list of Observations."""

    reply: ModelReply


Step = Reason | Act
"""What the loop asks of its driver. An AgentlabError from the model or the tools is thrown back into the loop."""


def _reason(messages: list[Message], trace: Trace, tool_choice: str = "auto") -> Generator[Step, Any, ModelReply]:
    start = time.time()
    try:
        reply: ModelReply = yield Reason(messages, tool_choice)
    except AgentlabError as exc:
        trace.add("model", "reason", start, time.time(), "error", str(exc))
        raise
    what = ", ".join(f"{c.name}({c.arguments[:60]})" for c in reply.tool_calls) or "final answer"
    trace.add("model", what, start, time.time(), reply.finish_reason, (reply.content or "")[:500])
    if "context_budget" in reply.usage:  # the model was sent a fitted conversation: say what it left out
        note = context_note(reply.usage)
        trace.add("model", f"context fitted: {note}", start, start, "trimmed", note)
    return reply


def _act(reply: ModelReply, trace: Trace) -> Generator[Step, Any, list[Observation]]:
    observations: list[Observation] = yield Act(reply)
    for obs in observations:
        trace.add(
            f"tool:{obs.tool}",
            obs.content[:80],
            obs.start,
            obs.end,
            "ok" if obs.ok else (obs.error or "error"),
            obs.content[:500],
        )
    return observations


def _gave_up(reason: str, reply: ModelReply, turns: int, messages: list[Message], trace: Trace) -> RunResult:
    """The run's end when the model calls `give_up`: its reason is the error, and no call of the reply runs."""
    for call in reply.tool_calls:  # every call gets its one answer, so the conversation stays well-formed
        note = "The run ends here, without an answer." if call.name == GIVE_UP else "Not run: the agent gave up."
        messages.append(tool_message(call.id, note))
    return RunResult(f"The agent gave up: {reason}", "gave_up", turns, messages, trace, error=reason)


def offered(toolbox: Toolbox) -> list[dict[str, Any]]:
    """The `tools` list of every model step: the agent's own tools and, beside them, `give_up`."""
    if GIVE_UP in toolbox:
        raise UsageError(f"an agent tool may not be named {GIVE_UP!r}: the loop reserves it for giving up")
    schemas = toolbox.schemas()
    return [*schemas, GIVE_UP_TOOL] if schemas else []


def _loop(goal: str, max_turns: int, system: str | None, run_id: str | None) -> Generator[Step, Any, RunResult]:
    """The loop itself, apart from how its model steps and tool turns are carried out (`run_agent`
    carries them out in this thread, `arun_agent` awaits them)."""
    trace = Trace(run_id or uuid.uuid4().hex[:12])
    messages: list[Message] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": goal})
    turns = 0
    try:
        while turns < max_turns:
            reply = yield from _reason(messages, trace)  # Reason
            messages.append(assistant_message(reply))
            if (why := give_up_reason(reply)) is not None:  # the model says it cannot finish
                return _gave_up(why, reply, turns, messages, trace)
            if reply.is_final and not (reply.content or "").strip():  # an empty reply is never an answer
                note = "The model sent an empty reply (no content, no tool calls): no answer."
                return RunResult(note, "no_answer", turns, messages, trace, error="empty reply")
            if reply.is_final:  # Done?
                return RunResult(reply.content or "", "answer", turns, messages, trace)
            turns += 1
            for obs in (yield from _act(reply, trace)):  # Act
                messages.append(tool_message(obs.call_id, obs.content))  # Observe
        reply = yield from _reason(messages, trace, tool_choice="none")
        if (why := give_up_reason(reply)) is not None:  # giving up is still allowed at the budget
            messages.append(assistant_message(reply))
            return _gave_up(why, reply, turns, messages, trace)
    except AgentlabError as exc:
        reason = exc.stop_reason or "model_error"
        answer = f"The run stopped ({reason}): {exc}"
        return RunResult(answer, reason, turns, messages, trace, error=str(exc))
    answer = reply.content or "(no answer)"
    if reply.tool_calls:  # a model that ignores tool_choice="none": do not run its calls
        answer = reply.content or "The model kept asking for tools after its turn budget ran out."
    messages.append({"role": "assistant", "content": answer})
    note = f"Stopped at the budget of {max_turns} turns without a final answer. Best answer so far: {answer}"
    return RunResult(note, "max_turns", turns, messages, trace)


def run_agent(
    goal: str,
    *,
    model: Model,
    tools: Sequence[Tool] | Toolbox = (),
    max_turns: int = 8,
    system: str | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run one ReAct agent on `goal` until it answers or spends `max_turns` act-observe turns."""
    toolbox = tools if isinstance(tools, Toolbox) else Toolbox(list(tools))
    schemas = offered(toolbox)
    loop = _loop(goal, max_turns, system, run_id)
    step = next(loop)
    try:
        while True:
            try:
                if isinstance(step, Act):
                    done: Any = toolbox.call_all(step.reply.tool_calls)
                else:
                    done = model.complete(step.messages, schemas, tool_choice=step.tool_choice)
            except AgentlabError as exc:  # the loop decides how the run ends
                step = loop.throw(exc)
            else:
                step = loop.send(done)
    except StopIteration as end:
        result: RunResult = end.value
        return result


async def arun_agent(
    goal: str,
    *,
    model: Model,
    tools: Sequence[Tool] | Toolbox = (),
    max_turns: int = 8,
    system: str | None = None,
    run_id: str | None = None,
) -> RunResult:
    """`run_agent`, awaited: model steps through the model's `acomplete` when it has one, tool turns (and
    the steps of a model without one) on the process's blocking pool, so a thousand agents on one event
    loop wait without a thousand threads."""
    toolbox = tools if isinstance(tools, Toolbox) else Toolbox(list(tools))
    schemas = offered(toolbox)
    acomplete = getattr(model, "acomplete", None) or functools.partial(run_blocking, model.complete)
    loop = _loop(goal, max_turns, system, run_id)
    step = next(loop)
    try:
        while True:
            try:
                if isinstance(step, Act):
                    done: Any = await run_blocking(toolbox.call_all, step.reply.tool_calls)
                else:
                    done = await acomplete(step.messages, schemas, tool_choice=step.tool_choice)
            except AgentlabError as exc:  # the loop decides how the run ends
                step = loop.throw(exc)
            else:
                step = loop.send(done)
    except StopIteration as end:
        result: RunResult = end.value
        return result
