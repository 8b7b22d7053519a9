"""Step identity by content: one identity per step, from which every key derives (labs 02, 04).

A step is named by *what* it is — (run id, path in the plan, kind or tool, canonical arguments) — never
by its position in a list, its completion order, or which attempt this is. Retries and re-executions of
the same step therefore carry the same key, and a service that has seen the key can return the first
result instead of acting twice. (Keys built from positions break as soon as steps finish out of order:
LangGraph #7780 and DBOS #688 are that failure.)

For a sub-task, `identify(run_id, task)` is the one function that names it. Its keys derive from the
`StepId` it returns:

    work      the work itself: (run, the planned sub-task it stands for, role, goal). A fresh re-plan
              after a timeout, or a redo in a later round, is the same work.
    journal   this attempt's result in the journal: (work, round, attempt, dependencies).
    dask(tag) the Dask task key of one copy (primary or hedge) of this attempt.

A side effect is named by its own content, not by the sub-task that makes it: `effect_key(run, tool,
arguments)`, the arguments as the tool's schema validated them. A model rewords a goal at will (a line
break, a double space, a re-plan under a new id), so a key made from the goal would charge a payment
once per wording; this one is the same for every attempt, copy and re-plan that makes the same call in
the same run, and two different payments differ in their arguments (another order, another amount).

`KEY_SCHEME` versions this scheme; a journal written under another one is refused, never silently re-run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentlab.steps import StopReason, SubTask, SubTaskResult, SubTaskState, Tag

if TYPE_CHECKING:
    from agentlab.trace import Event

__all__ = ["KEY_SCHEME", "StepId", "Work", "canonical", "effect_key", "identify", "model_step_key", "step_key"]

KEY_SCHEME = 3
"""1: sub-task keys hashed from the id string; 2: `identify` (work, attempt, round as fields); 3: effects
keyed by their content (`effect_key`), not by the work. A resumed scheme-2 run would pay again under new keys."""


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


def effect_key(run_id: str, tool: str, arguments: Mapping[str, Any]) -> str:
    """The idempotency key of a side effect: the run, the tool and its validated arguments, nothing else
    (see the module docstring). Pass the arguments as the tool's schema reads them
    (`agentlab.agent.tools.Tool.canonical`), so `{"amount": 10}` and `{"amount": 10.0}` are one payment."""
    return step_key(run_id, "effect", tool, _json_numbers(dict(arguments)))


def _json_numbers(value: Any) -> Any:
    """Whole floats as ints, all the way down: JSON does not tell 10 from 10.0, so neither does a key."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _json_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_numbers(item) for item in value]
    return value


def model_step_key(run_id: str, path: str, prompt: str) -> str:
    """The identity of one of the supervisor's model steps (plan, reduce): where it is and what it read."""
    return step_key(run_id, path, "model", {"prompt": prompt})


@dataclass(frozen=True)
class Work:
    """One copy of a sub-task to run: the task, its identity, the findings it reads, and which copy it is.

    A runner gets exactly this. `key` names the sub-task, not its side effects: a tool call's idempotency
    key is `effect_key(run_id, tool, arguments)`, the same from every copy, re-execution and re-plan.
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
