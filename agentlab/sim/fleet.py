"""One simulated run of the fleet: the real supervisor and runners, the nemesis around them (lab 07).

`simulate(seed, faults)` runs a supervised goal — pay N orders — with the real `Supervisor`, its rounds,
`AgentRunner`'s ReAct loops, the `pay` tool behind its RPC contract (retries, the idempotency key), the
SQLite journal and a shared token budget, all in this process on a `FakeClock`. What the nemesis adds:

    SimDispatcher   an `InlineDispatcher` whose copies take seeded times, and whose workers may die
                    after a copy ran but before its result came back (the copy is sent again)
    DyingJournal    the journal of a supervisor process that dies at a seeded write: that write and
                    every later one never happen; a new supervisor then resumes the run from what was
                    written, as `agentlab run --run-id` does after a crash

Everything that happens goes to the world's history, which the checkers judge.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentlab.agent.tools import Tool, tool
from agentlab.durable.journal import Step
from agentlab.durable.run import StepKey
from agentlab.durable.sqlite import SqliteJournal
from agentlab.errors import AgentlabError
from agentlab.events import RoundEvent
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner, Runner
from agentlab.fanout.supervisor import Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.identity import StepId, Work
from agentlab.memory.budget import Budget
from agentlab.memory.budgeted import BudgetedModel, SharedBudget
from agentlab.memory.server import ServerHandle
from agentlab.models.base import Model
from agentlab.rpc.contract import RetryPolicy, ToolPolicy
from agentlab.rpc.guarded import GuardedToolbox, Services, idempotency_key
from agentlab.sim.history import History
from agentlab.sim.model import SimModel
from agentlab.sim.world import Desk, World
from agentlab.steps import SubTask, SubTaskResult, Tag
from agentlab.testing.clock import FakeClock
from agentlab.testing.inline import InlineDispatcher
from agentlab.testing.runners import SleepRunner

__all__ = ["DyingJournal", "Parts", "Recorded", "SimCrash", "SimDispatcher", "simulate"]

PAY_POLICY = ToolPolicy(
    timeout=None, retry=RetryPolicy(attempts=2, base=0.0, jitter=False), idempotent=False, forwards_key=True
)
"""The payment's contract: one retry at once, carrying the idempotency key to the desk."""
_LEDGER = ServerHandle.local(":memory:", name="agentlab-sim")
POLICY = FanOutPolicy(max_rounds=3, subtask_timeout=30.0)
"""Three rounds; a sub-task still running 30 s after it started is abandoned and re-planned (a clock jump
can make that happen)."""


class SimCrash(BaseException):
    """The supervisor's process died (a BaseException, so nothing in agentlab catches it as a failure)."""


@dataclass(frozen=True)
class SimTiming(SleepRunner):
    """How long each copy takes: 0.5-2.5 s, drawn from the seed by the planned sub-task and the attempt."""

    world: World = field(default_factory=lambda: World(0))

    def seconds(self, task: SubTask, tag: Tag) -> float:
        return 0.5 + 2.0 * self.world.draw("latency", task.origin, task.round, task.attempt, tag)


@dataclass
class SimDispatcher(InlineDispatcher):
    """`InlineDispatcher`, plus workers that die holding a result (the copy is sent again), results
    delivered twice, and a clock that jumps."""

    world: World = field(default_factory=lambda: World(0))
    resend: bool = True
    """Re-send what a dead worker held (False: a broken dispatcher that forgets it)."""

    def completed(self, timeout: float | None) -> list[tuple[str, SubTaskResult]]:
        works = dict(self._work)  # the copies in flight, before the parent forgets the finished ones
        done = []
        for key, result in super().completed(timeout):
            work = works[key]
            if self.world.fires("worker_crash", work.key.journal, len(self.submitted)):
                if self.resend:
                    self.submit(work)  # at-least-once: the dispatcher re-sends what its lost worker held
                continue
            done.append((key, result))
            if self.world.fires("duplicate", work.key.journal, len(self.submitted)):
                done.append((key, result))  # delivered twice: the round must take it once
        if self.world.fires("clock_jump", len(self.submitted), len(done)):
            self.clock.advance(45.0)
        return done


@dataclass
class Recorded:
    """A runner that tells the world which sub-task runs, and records each execution and its result."""

    inner: Runner
    world: World

    def __call__(self, work: Work) -> SubTaskResult:
        self.world.current, self.world.gave_up = work.task.id, False
        self.world.record("execute", work.task.id, journal=work.key.journal, origin=work.task.origin)
        result = self.inner(work)
        self.world.record("ran", work.task.id, state=result.state, gave_up=self.world.gave_up)
        self.world.current = ""
        return result


class DyingJournal(SqliteJournal):
    """A journal whose supervisor dies at write number `dies_at` (None: never)."""

    def __init__(self, world: World, dies_at: int | None) -> None:
        super().__init__(":memory:")
        self.world, self.dies_at, self.writes, self.dead = world, dies_at, 0, False

    def _write(self) -> bool:
        if self.dead:
            return False
        self.writes += 1
        if self.writes == self.dies_at:
            self.dead = True
            self.world.record("crash", "supervisor", write=self.writes)
            raise SimCrash
        return True

    def append(self, step: Step) -> bool:
        return self.append_many([step])[0] if step else False

    def append_many(self, steps: Sequence[Step]) -> list[bool]:
        if not steps or not self._write():
            return [False] * len(steps)
        for step in steps:
            self.world.record("commit", step.path, key=step.key, step=step.kind, **self.noted(step))
        return super().append_many(steps)

    def noted(self, step: Step) -> dict[str, Any]:
        """What a commit's record says of the step besides its key (a variant may say which step it is)."""
        return {}

    def finish_run(self, run_id: str, status: str, answer: str = "", stop_reason: str = "") -> None:
        if self._write():
            super().finish_run(run_id, status, answer, stop_reason)

    def revive(self) -> None:
        """A new supervisor process opens the same file."""
        self.dead, self.dies_at = False, None


_DESK: contextvars.ContextVar[Desk] = contextvars.ContextVar("agentlab_sim_desk")


@tool
def pay(order: str, amount: float) -> dict[str, Any]:
    """Charge an order once; repeating the call with the same key never charges twice.

    Args:
        order: the order to charge, e.g. ORD-3.
        amount: the amount, e.g. 42.00.
    """
    return _DESK.get().pay(order, amount, idempotency_key())


PAY: Tool = pay
"""Made once per process (a tool's schema and validator cost more than a run); it pays at this run's desk."""


@dataclass(frozen=True)
class SimToolkit(Toolkit):
    """A toolkit whose breakers, rate limits and retry waits run on the simulation's clock."""

    services: Services = field(default_factory=Services)

    def toolbox(self, role: str, step: StepId, services: Services | None = None) -> GuardedToolbox:
        return super().toolbox(role, step, services or self.services)


_ENDINGS = ("done", "failed", "timeout", "blocked", "cancelled", "replayed")


def _observe(world: World) -> Any:
    def observe(event: RoundEvent) -> None:
        task = event.task
        if event.kind == "planned":
            world.record("planned", task.id, origin=task.origin, goal=task.goal, replaces=task.replaces or "")
        elif event.result is not None and event.kind in (
            "done",
            "failed",
            "timeout",
            "blocked",
            "cancelled",
            "replayed",
        ):
            r = event.result
            world.record(
                "result", task.id, state=r.state, stop_reason=r.stop_reason or "", replayed=event.kind == "replayed"
            )

    return observe


@dataclass(frozen=True)
class Parts:
    """What a simulated run is made of. Each is agentlab's own by default; a test (or a lab) swaps one for
    a variant — a desk that ignores keys, a journal that forgets, a learner's component — and lets the
    nemesis attack it."""

    desk: Callable[[World], Desk] = Desk
    journal: Callable[[World, int | None], DyingJournal] = DyingJournal
    dispatcher: Callable[..., SimDispatcher] = SimDispatcher
    budgeted: Callable[[Model, SharedBudget, Callable[[float], None]], Model] = BudgetedModel
    runner: Callable[[Runner, World], Runner] = Recorded
    policy: FanOutPolicy = POLICY
    step_key: Callable[[World, DyingJournal], StepKey | None] = lambda world, journal: None
    """How each supervisor process's journal names a sub-task's step (None: agentlab's own)."""


def simulate(
    seed: int,
    faults: frozenset[str] = frozenset(),
    *,
    size: int = 6,
    tokens: int = 4_000,
    schedule: frozenset[tuple[str, str]] | None = None,
    parts: Parts | None = None,
) -> History:
    """Run one seed (see the module docstring) and return its history; `parts` default to agentlab's."""
    parts = parts or Parts()
    world = World(seed, faults, schedule, History({"seed": seed, "faults": sorted(faults), "size": size}))
    clock = FakeClock(0.0)
    world.now = clock
    _DESK.set(parts.desk(world))
    shared = SharedBudget(_LEDGER, Budget(f"sim-{seed}", tokens=tokens), clock=clock)
    crash_at = 2 + int(world.draw("crash-at") * (size + 3)) if world.fires("supervisor_crash", "run") else None
    journal = parts.journal(world, crash_at)
    try:
        _supervise(world, clock, SimModel(world, size), _runner(world, clock, shared, size, parts), journal, parts)
        ledger = shared.spend().tokens
        world.record("spend", shared.budget.name, tokens=world.used, ledger=ledger, limit=tokens)
    finally:
        shared.reset()
        journal.close()
    world.history.meta["fired"] = [list(f) for f in world.fired]
    if schedule is not None:
        world.history.meta["schedule"] = sorted(list(f) for f in schedule)
    return world.history


def _runner(world: World, clock: FakeClock, shared: SharedBudget, size: int, parts: Parts) -> Runner:
    """The executors: AgentRunner's ReAct loop, the budgeted model, the pay tool under its contract."""
    services = Services(clock=clock, sleep=clock.advance, seed=world.seed)
    toolkit = SimToolkit(kb=False, sandbox=False, extra=(PAY,), policies={"pay": PAY_POLICY}, services=services)
    model = parts.budgeted(SimModel(world, size, metered=True), shared, clock.advance)
    return parts.runner(AgentRunner(model, toolkit, max_turns=4), world)


def _supervise(
    world: World, clock: FakeClock, model: Model, runner: Runner, journal: DyingJournal, parts: Parts
) -> None:
    """The supervisor, and after a crash the one that resumes the run from the journal."""
    run_id = f"sim-{world.seed}"
    for attempt in range(2):
        dispatcher = parts.dispatcher(SimTiming(world=world), clock=clock, world=world)
        supervisor = Supervisor(
            None, model, runner=runner, dispatch=dispatcher, journal=journal, clock=clock,
            policy=parts.policy, observers=[_observe(world)], step_key=parts.step_key(world, journal),
        )  # fmt: skip
        try:
            result = supervisor.run("Pay the orders of the day.", run_id=run_id)
        except SimCrash:
            journal.revive()
            world.record("resume", "supervisor", attempt=attempt + 1)
            continue
        except AgentlabError as exc:  # the run broke instead of ending: the checkers see no outcome
            world.record("error", run_id, error=f"{type(exc).__name__}: {exc}")
            return
        world.record("outcome", run_id, stop_reason=result.stop_reason, answer=result.answer)
        return
