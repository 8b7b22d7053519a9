"""The values every layer shares: a sub-task, its result, a piece of work, and the closed sets of states and
stop reasons (labs 01, 03, 04).

These sit at the bottom of agentlab: the journal, the dispatchers and the fan-out read and write them
without importing the loop, the models or the datasets. A sub-task carries *what it is* as fields —
its round, which attempt it is, the sub-task it replaces and the planned sub-task it stands for — so
nothing ever parses structure out of an id string.

How a run ends is one of `STOP_REASONS`, shared by the loop and the supervisor:

    answer       the model (or the supervisor's reduce step) gave a final answer
    no_answer    the run ended without one (every sub-task failed, or the reply was empty)
    gave_up      the agent said it cannot finish; its reason is attached; not an answer
    max_turns    the loop spent its turn budget; its best effort is attached, but it is not an answer
    max_rounds   the supervisor wanted another round and had none left
    budget       a shared resource budget (tokens, cost, requests) ran out
    model_error  the model endpoint failed past its retries
    cancelled    someone stopped the run (Ctrl-C, a cancelled task)

Only "answer" is a success: the CLI exits 0 for it and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from agentlab.trace import Event

__all__ = [
    "FINISHED",
    "STOP_REASONS",
    "SUBTASK_STATES",
    "StopReason",
    "SubTask",
    "SubTaskResult",
    "SubTaskState",
    "Tag",
]

StopReason = Literal["answer", "no_answer", "gave_up", "max_turns", "max_rounds", "budget", "model_error", "cancelled"]
STOP_REASONS: tuple[StopReason, ...] = get_args(StopReason)

SubTaskState = Literal["pending", "ready", "running", "done", "failed", "timeout", "blocked", "cancelled"]
"""pending → ready → running → done | failed | timeout; `blocked`: a dependency failed for good;
`cancelled`: the round ended (quorum, any, deadline) before it finished."""
SUBTASK_STATES: tuple[SubTaskState, ...] = get_args(SubTaskState)
FINISHED: frozenset[SubTaskState] = frozenset({"done", "failed", "timeout", "blocked", "cancelled"})

Tag = Literal["primary", "hedge"]
"""Which copy of a sub-task ran: the primary, or a speculative duplicate (a hedge)."""


@dataclass(frozen=True)
class SubTask:
    """One unit of delegated work: a goal for an executor agent in a role, after its dependencies."""

    id: str
    goal: str
    role: str = "researcher"
    deps: tuple[str, ...] = ()
    round: int = 1
    """The supervisor round that planned it."""
    attempt: int = 0
    """0 for the planned sub-task; n for its n-th fresh re-plan after a timeout."""
    replaces: str | None = None
    """The id of the earlier sub-task this one redoes (a timed-out one, or a failed one from an earlier round)."""
    origin: str = ""
    """The planned sub-task this one stands for (its own id unless it replaces another); filled in if empty."""

    def __post_init__(self) -> None:
        if not self.origin:
            object.__setattr__(self, "origin", self.id)

    def fresh(self) -> SubTask:
        """The same work as a new sub-task (new id, next attempt), for re-planning after a timeout.

        The new id is this one's with `~<attempt>`: unique even when two sub-tasks stand for the same
        planned one (a re-plan split in two), or a later round redoes it under another id."""
        attempt = self.attempt + 1
        return replace(self, id=f"{self.id}~{attempt}", attempt=attempt, replaces=self.id)


@dataclass(frozen=True)
class SubTaskResult:
    """How one sub-task ended. A failure is a value like any other: `state` says which kind."""

    id: str
    role: str
    state: SubTaskState
    """"done", "failed", "timeout" (abandoned by the supervisor), "cancelled" or "blocked"."""
    value: str = ""
    error: str | None = None
    worker: str = ""
    start: float = 0.0
    end: float = 0.0
    tag: Tag = "primary"
    events: tuple[Event, ...] = field(default=(), repr=False)
    stop_reason: StopReason | None = None
    """How the sub-task's own agent loop ended ("answer", "max_turns", "budget", ...); None when no loop ran
    (a timeout, a block, a runner that is not an agent). The supervisor reads it here, never from `error`."""

    @property
    def ok(self) -> bool:
        return self.state == "done"

    @property
    def duration(self) -> float:
        return self.end - self.start
