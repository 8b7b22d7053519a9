"""Step identity by content: one identity per step, from which every key derives (labs 02, 04).

A step is named by *what* it is — (run id, path in the plan, kind or tool, canonical arguments) — never
by its position in a list, its completion order, or which attempt this is. Retries and re-executions of
the same step therefore carry the same key, and a service that has seen the key can return the first
result instead of acting twice. (Keys built from positions break as soon as steps finish out of order:
LangGraph #7780 and DBOS #688 are that failure.)

For a sub-task, `identify(run_id, task)` is the one function that names it. Everything else derives
from the `StepId` it returns:

    work      the work itself: (run, the planned sub-task it stands for, role, goal). A fresh re-plan
              after a timeout, or a redo in a later round, is the same work.
    journal   this attempt's result in the journal: (work, round, attempt, dependencies).
    dask(tag) the Dask task key of one copy (primary or hedge) of this attempt.
    tool(...) the idempotency key of a tool call: (work, tool, arguments), so a payment made by any
              attempt or copy of the same work presents the same key and is charged once.

`KEY_SCHEME` versions this scheme; a journal written under another one is refused, never silently re-run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentlab.steps import StopReason, SubTask, SubTaskResult, SubTaskState, Tag

if TYPE_CHECKING:
    from agentlab.trace import Event

__all__ = ["KEY_SCHEME", "StepId", "Work", "canonical", "identify", "model_step_key", "step_key"]

KEY_SCHEME = 2
"""1: sub-task keys hashed from the id string; 2: `identify` (work, attempt, round as fields)."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_text = json.encoder.encode_basestring  # how the encoder above writes one string (ensure_ascii=False)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, so equal arguments always serialise identically."""
    return _CANONICAL.encode(value)


_sha256 = hashlib.sha256


def _digest(text: str) -> str:
    return _sha256(text.encode()).hexdigest()[:24]


def step_key(run_id: str, path: str, kind: str, arguments: Any = None) -> str:
    """The step's identity: a short, stable hash of what the step is."""
    return f"{kind}-{_digest(canonical([run_id, path, kind, arguments]))}"


@dataclass(frozen=True)
class StepId:
    """The identity of one attempt of one sub-task (see the module docstring)."""

    run_id: str
    label: str
    """The sub-task's id, for people (dashboards, traces); never parsed."""
    work: str
    journal: str

    def dask(self, tag: str = "primary") -> str:
        return f"{self.label}-{tag}-{self.journal}"

    def tool(self, name: str, arguments: Any) -> str:
        return step_key(self.run_id, self.work, name, arguments)


def identify(run_id: str, task: SubTask) -> StepId:
    """The one identity of `task` in run `run_id`: the same two keys as

        work    = step_key(run_id, task.origin, "work", {"role": task.role, "goal": task.goal})
        journal = step_key(run_id, work, "subtask", {"round": ..., "attempt": ..., "deps": [...]})

    with their canonical JSON written out directly: a fan-out of 100,000 names 100,000 sub-tasks, and
    the general encoder costs several times more (tests/test_scale.py holds both to the same bytes)."""
    # a bool is an int to Python, but JSON writes it `true`: anything but a plain int takes the general path
    if type(task.round) is not int or type(task.attempt) is not int:
        return _identify_slowly(run_id, task)
    run = _text(run_id)
    role_goal = f'{{"goal":{_text(task.goal)},"role":{_text(task.role)}}}'
    work = "work-" + _sha256(f'[{run},{_text(task.origin)},"work",{role_goal}]'.encode()).hexdigest()[:24]
    deps = ",".join(map(_text, task.deps)) if task.deps else ""
    attempt = f'{{"attempt":{task.attempt},"deps":[{deps}],"round":{task.round}}}'
    # `work` is "work-" and hex digits: its JSON is itself in quotes
    journal = "subtask-" + _sha256(f'[{run},"{work}","subtask",{attempt}]'.encode()).hexdigest()[:24]
    return StepId(run_id, task.id, work, journal)


def _identify_slowly(run_id: str, task: SubTask) -> StepId:
    """`identify` through the general encoder (the definition the fast path must match)."""
    work = step_key(run_id, task.origin, "work", {"role": task.role, "goal": task.goal})
    attempt = {"round": task.round, "attempt": task.attempt, "deps": list(task.deps)}
    return StepId(run_id, task.id, work, step_key(run_id, work, "subtask", attempt))


def model_step_key(run_id: str, path: str, prompt: str) -> str:
    """The identity of one of the supervisor's model steps (plan, reduce): where it is and what it read."""
    return step_key(run_id, path, "model", {"prompt": prompt})


@dataclass(frozen=True)
class Work:
    """One copy of a sub-task to run: the task, its identity, the findings it reads, and which copy it is.

    A runner gets exactly this; `key` gives it the idempotency keys for its tool calls
    (`key.tool(name, arguments)`), so every copy and every re-execution presents the same ones.
    """

    run_id: str
    task: SubTask
    key: StepId
    findings: str = ""
    tag: Tag = "primary"

    flight: str = field(init=False, repr=False, compare=False)
    """This copy's key: the Dask task key, and how a dispatcher tells copies apart (from `key` and `tag`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "flight", self.key.dask(self.tag))

    def result(
        self,
        state: SubTaskState,
        value: str = "",
        error: str | None = None,
        *,
        worker: str = "",
        start: float = 0.0,
        end: float = 0.0,
        events: tuple[Event, ...] = (),
        stop_reason: StopReason | None = None,
    ) -> SubTaskResult:
        """A result for this copy of the sub-task."""
        task = self.task
        return SubTaskResult(task.id, task.role, state, value, error, worker, start, end, self.tag, events, stop_reason)
