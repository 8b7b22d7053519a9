"""What a fan-out reports as it runs: one typed event value for every observer (labs 03, 04, 05).

A round tells its observers — the journal's recorder, the findings board, the live views, the
supervisor itself, your own function — what happens to each sub-task, as a `RoundEvent`:

    planned     a sub-task entered the plan (`round`; a fresh re-plan names what it `replaces`)
    dispatched  a copy went to a worker (`flight` is that copy's key)
    hedged      a speculative duplicate went to a worker
    done        it finished with a result (`result`)
    failed      it finished without one (`result.error` says why, `result.stop_reason` how its loop ended)
    timeout     it was abandoned at its timeout (`result`)
    blocked     a dependency failed for good (`after` names it)
    cancelled   the round ended before it finished (`why`)
    ignored     a copy is no longer waited for (a hedge's loser, an abandoned straggler; `why`)
    replayed    its result came from the journal, not from running it again (`result`)
    remote      a delegated task changed state on a remote agent (`remote`: `agentlab.protocols.a2a_client`)

Every event carries the sub-task and its identity (`step`: the journal key, the idempotency keys), so no
observer recomputes or parses either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from agentlab.identity import StepId
from agentlab.steps import SubTask, SubTaskResult, Tag

__all__ = ["EVENT_KINDS", "EventKind", "Observer", "RemoteUpdate", "RoundEvent"]

EventKind = Literal[
    "planned",
    "dispatched",
    "hedged",
    "done",
    "failed",
    "timeout",
    "blocked",
    "cancelled",
    "ignored",
    "replayed",
    "remote",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)


@dataclass(frozen=True)
class RemoteUpdate:
    """A delegated task's state on the remote agent that runs it (A2A), as the worker heard it."""

    agent: str
    state: str
    text: str
    at: float


@dataclass(frozen=True)
class RoundEvent:
    """One thing that happened to one sub-task (see the module docstring for which fields each kind sets)."""

    kind: EventKind
    task: SubTask
    step: StepId | None = None
    """The sub-task's identity, when the round knows it (a `remote` update from a worker does not)."""
    result: SubTaskResult | None = None
    round: int = 0
    """The supervisor round that planned it (`planned` events)."""
    replaces: str | None = None
    """The sub-task a fresh re-plan redoes (`planned` events made inside a round)."""
    after: str | None = None
    """The dependency whose failure blocked it (`blocked`)."""
    tag: Tag = "primary"
    """Which copy (`dispatched`, `hedged`, `ignored`)."""
    flight: str = ""
    """The copy's key (`dispatched`, `hedged`)."""
    why: str = ""
    """Why, in words (`ignored`, `cancelled`)."""
    remote: RemoteUpdate | None = None


Observer = Callable[[RoundEvent], None]
"""Called once per event, in the order the round saw them."""
