"""What a supervised run has gathered so far, and what its reduce step decided (lab 03).

`RunState` keeps every result and, for each planned sub-task, its latest one (a re-plan's result replaces
the one it redoes). The reduce step's decision is a value: `Finish` (a stop reason and the answer) or
`Replan` (the next round's plan). A run's answer is only an answer when at least one sub-task produced a
result (a sub-task whose agent gave up, or stopped at its turn budget, produced none). When any
sub-task's own loop stopped for budget (its latest result's `stop_reason`), the run ran out of budget: it
ends "budget", its answer saying what was found and which sub-tasks were cut off.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentlab.fanout.plan import Plan
from agentlab.steps import StopReason, SubTaskResult
from agentlab.trace import Trace

__all__ = ["Finish", "Replan", "RunState", "Verdict"]


@dataclass(frozen=True)
class Finish:
    """The run ends: how, and with what answer (or what to say instead of one)."""

    reason: StopReason
    answer: str


@dataclass(frozen=True)
class Replan:
    """The run goes on: another round with this plan."""

    plan: Plan


Verdict = Finish | Replan


class RunState:
    """What a run has learned so far: every result, and the latest result of each planned sub-task."""

    def __init__(self) -> None:
        self.plans: list[Plan] = []
        self.results: list[SubTaskResult] = []
        self.origins: dict[str, str] = {}  # sub-task id → the planned sub-task it stands for
        self.goals: dict[str, str] = {}
        self.by_origin: dict[str, SubTaskResult] = {}

    def add(self, plan: Plan, results: dict[str, SubTaskResult], trace: Trace, now: float) -> None:
        for r in results.values():  # in the order they settled: a re-plan's result follows the one it redoes
            task = plan.task(r.id)
            self.origins[r.id], self.goals[r.id] = task.origin, task.goal
            self.by_origin[task.origin] = r
            detail = r.error or r.worker if not r.ok else r.worker
            trace.add(f"{r.role}:{r.id}", task.goal, r.start or now, r.end or now, r.state, detail or "")
        self.results.extend(results.values())

    def latest(self) -> list[SubTaskResult]:
        return sorted(self.by_origin.values(), key=lambda r: r.id)

    def earlier(self) -> dict[str, SubTaskResult]:
        """For every id seen so far, the latest result of the planned sub-task it stands for."""
        return {tid: self.by_origin[o] for tid, o in self.origins.items() if o in self.by_origin}

    def usable_ids(self) -> list[str]:
        """Ids a next round may depend on: those whose planned sub-task has a result."""
        return [tid for tid, r in self.earlier().items() if r.ok]

    def verdict(self, answer: str) -> Finish:
        """How a run the reduce step ended stands: an answer needs text, at least one sub-task's result, and
        no sub-task cut off by the budget."""
        if self.cut_off():
            return Finish("budget", self.out_of_budget(answer if any(r.ok for r in self.latest()) else ""))
        if not any(r.ok for r in self.by_origin.values()):
            why = "; ".join(f"{r.id}: {r.state} ({r.error})" for r in self.latest()) or "nothing ran"
            return Finish("no_answer", f"No sub-task produced a result ({why}).")
        if not answer.strip():
            return Finish("no_answer", "The reduce step ended without an answer.")
        return Finish("answer", answer)

    def cut_off(self) -> list[SubTaskResult]:
        """The latest results whose own loop stopped because the shared budget ran out."""
        return [r for r in self.latest() if r.stop_reason == "budget"]

    def out_of_budget(self, answer: str = "", why: str = "") -> str:
        """What a run the budget stopped says: why, which sub-tasks were cut off, and what was found."""
        found = answer.strip() or " ".join(r.value for r in self.latest() if r.ok)
        cut = "; ".join(f"{r.id} ({r.error})" if r.error else r.id for r in self.cut_off())
        why = why or "sub-tasks stopped when the shared budget ran out"
        return f"Out of budget: {why}; cut off: {cut or 'no sub-task'}. Found so far: {found or '-'}"

    def partial(self, rounds: int) -> str:
        found = " ".join(r.value for r in self.latest() if r.ok)
        missing = ", ".join(r.id for r in self.latest() if not r.ok)
        return f"Out of rounds after {rounds}; still missing: {missing or 'nothing'}. Found so far: {found or '-'}"
