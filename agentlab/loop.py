"""The ReAct loop: reason → act → observe until a final answer (lab 01; Figure 40.6.1).

    1. Reason: one model step sees the goal, the tools and every observation so far.
    2. If it asked for no tools, its content is the final answer: stop.
    3. Act: run the turn's tool calls (in parallel when there are several); bad calls become
       error observations, never exceptions.
    4. Observe: append one tool message per call, and go back to 1.
    5. At the turn budget, ask once more with tools switched off, so the run still ends with its best
       effort and the reason it stopped ("max_turns": a best effort, not an answer).

Each step is an event in the run's trace. The loop keeps no state outside this call, so an agent
(model + tools) pickles cleanly to a Dask worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from agentlab.errors import AgentlabError
from agentlab.models import Model
from agentlab.steps import StopReason
from agentlab.tools import Observation, Tool, Toolbox
from agentlab.trace import Trace
from agentlab.wire import Message, ModelReply, assistant_message, tool_message

__all__ = ["RunResult", "run_agent"]


@dataclass
class RunResult:
    """How a run ended: the answer, why it stopped, the conversation and the trace."""

    answer: str
    stop_reason: StopReason
    """"answer" (the model finished), "max_turns" (turn limit), "model_error" (endpoint failed), ...
    (`agentlab.steps.STOP_REASONS`)."""
    turns: int
    """Act-observe turns taken (model steps that called tools)."""
    messages: list[Message] = field(repr=False)
    trace: Trace = field(repr=False)
    error: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.trace.to_frame()

    def _repr_html_(self) -> str:
        return f"<p><b>{self.stop_reason}</b> after {self.turns} turn(s): {self.answer}</p>" + self.trace._repr_html_()


def _reason(
    model: Model, messages: list[Message], toolbox: Toolbox, trace: Trace, tool_choice: str = "auto"
) -> ModelReply:
    start = time.time()
    try:
        reply = model.complete(messages, toolbox.schemas(), tool_choice=tool_choice)
    except AgentlabError as exc:
        trace.add("model", "reason", start, time.time(), "error", str(exc))
        raise
    what = ", ".join(f"{c.name}({c.arguments[:60]})" for c in reply.tool_calls) or "final answer"
    trace.add("model", what, start, time.time(), reply.finish_reason, (reply.content or "")[:500])
    return reply


def _act(toolbox: Toolbox, reply: ModelReply, trace: Trace) -> list[Observation]:
    observations = toolbox.call_all(reply.tool_calls)
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
    trace = Trace(run_id or uuid.uuid4().hex[:12])
    messages: list[Message] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": goal})
    turns = 0
    try:
        while turns < max_turns:
            reply = _reason(model, messages, toolbox, trace)  # Reason
            messages.append(assistant_message(reply))
            if reply.is_final and not (reply.content or "").strip():  # an empty reply is never an answer
                note = "The model sent an empty reply (no content, no tool calls): no answer."
                return RunResult(note, "no_answer", turns, messages, trace, error="empty reply")
            if reply.is_final:  # Done?
                return RunResult(reply.content or "", "answer", turns, messages, trace)
            turns += 1
            for obs in _act(toolbox, reply, trace):  # Act
                messages.append(tool_message(obs.call_id, obs.content))  # Observe
        reply = _reason(model, messages, toolbox, trace, tool_choice="none")
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
