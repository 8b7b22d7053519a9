"""The simulator: deterministic, replayable, and its checkers seen failing on deliberately broken parts."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from agentlab.durable.sqlite import SqliteJournal
from agentlab.errors import BudgetExhausted
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import Runner
from agentlab.identity import Work
from agentlab.memory.budgeted import SharedBudget
from agentlab.models.base import Model
from agentlab.sim.checkers import CHECKERS
from agentlab.sim.explore import explore, shrink
from agentlab.sim.fleet import DyingJournal, Parts, Recorded, simulate
from agentlab.sim.history import History
from agentlab.sim.world import Desk, World, faults_of
from agentlab.steps import SubTaskResult
from agentlab.wire import Message, ModelReply

ALL = faults_of(["all"])


def test_a_seed_replays_to_the_identical_history_and_a_saved_history_loads(tmp_path: Path) -> None:
    first, again = simulate(11, ALL), simulate(11, ALL)
    assert first.digest() == again.digest() and len(first.records) > 20
    assert simulate(12, ALL).digest() != first.digest()
    first.save(tmp_path / "h.json")
    loaded = History.load(tmp_path / "h.json")
    assert loaded.digest() == first.digest() and loaded.timeline() == first.timeline()


def test_replay_on_the_command_line_prints_the_same_hash_twice(tmp_path: Path) -> None:
    def replay() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "agentlab", "sim", "replay", "5", "--save", str(tmp_path / "5.json")],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return next(line for line in done.stdout.splitlines() if line.startswith("history "))

    assert replay() == replay()
    shown = subprocess.run(
        [sys.executable, "-m", "agentlab", "sim", "show", str(tmp_path / "5.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert shown.returncode == 0 and replay().split()[1] in shown.stdout and "the identical history" in shown.stdout
    (tmp_path / "junk.json").write_text("{not json")
    bad = subprocess.run(
        [sys.executable, "-m", "agentlab", "sim", "show", str(tmp_path / "junk.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "not a saved simulator history" in bad.stderr and "Traceback" not in bad.stderr


def test_shrinking_keeps_the_failure_with_fewer_faults() -> None:
    report = explore(range(30), faults_of(["payments"]), {"exactly_once": CHECKERS["exactly_once"]}, parts=KEYLESS)
    violation = report.violations[0]
    schedule, size, history = shrink(violation)
    assert CHECKERS["exactly_once"](history)
    assert len(schedule) <= len(violation.fired) and size <= violation.size


# -- each checker, seen failing on a broken part --------------------------------------------------------


class KeylessDesk(Desk):
    """A payment service that ignores idempotency keys: every call is a new charge."""

    def pay(self, order: str, amount: float, key: str | None) -> dict[str, object]:
        return super().pay(order, amount, f"{key}#{sum(self.seen.values())}")


class ForgetfulJournal(DyingJournal):
    """A journal whose resumed supervisor finds nothing: every step runs again after a crash."""

    def revive(self) -> None:
        super().revive()
        self._forgotten = SqliteJournal(":memory:")
        self.steps = self._forgotten.steps  # type: ignore[method-assign]
        self.get = self._forgotten.get  # type: ignore[method-assign]


class Trusting:
    """A runner that takes any final reply for an answer (what the loop did before `gave_up`)."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner

    @classmethod
    def part(cls, inner: Runner, world: World) -> Runner:
        return Recorded(cls(inner), world)

    def __call__(self, work: Work) -> SubTaskResult:
        result = self.inner(work)
        if result.stop_reason in ("gave_up", "max_turns"):
            return replace(result, state="done", value=result.error or "", stop_reason="answer")
        return result


class Unreserved:
    """A budgeted model that checks what is spent, then calls the model, then charges what it used: the
    check-then-act race a reservation exists to close (its last step can run past the limit)."""

    def __init__(self, model: Model, budget: SharedBudget, sleep: object) -> None:
        self.model, self.budget = model, budget

    def complete(
        self, messages: list[Message], tools: list[dict[str, object]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        limit = self.budget.budget.tokens or 0
        if self.budget.spend().tokens >= limit:
            raise BudgetExhausted("the budget is spent", limit="tokens")
        reply = self.model.complete(messages, tools, tool_choice=tool_choice)
        used = reply.usage["prompt_tokens"], reply.usage["completion_tokens"]
        admission, rid = self.budget.reserve(used[0], used[1])
        if admission.ok:  # what no longer fits is not even counted
            self.budget.settle(rid, *used)
        return reply


KEYLESS = Parts(desk=KeylessDesk)
BROKEN = {
    "exactly_once": (KEYLESS, ["lost_reply", "tool_5xx"]),
    # a dispatcher that forgets what a dead worker held, in rounds with no timeout to notice
    "no_lost_subtask": (
        Parts(dispatcher=lambda *a, **k: _forgetting(*a, **k), policy=FanOutPolicy(max_rounds=3)),  # noqa: PLW0108
        ["worker_crash"],
    ),
    "truthful_outcome": (Parts(runner=Trusting.part), ["lost_reply", "tool_5xx"]),
    "budget_held": (Parts(budgeted=Unreserved), ["long_reply"]),
    "resume_redoes_nothing": (Parts(journal=ForgetfulJournal), ["supervisor_crash"]),
}


def _forgetting(*args: object, **kwargs: object) -> object:
    from agentlab.sim.fleet import SimDispatcher

    return SimDispatcher(*args, **{**kwargs, "resend": False})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_checker_catches_its_broken_variant_within_100_seeds(name: str) -> None:
    parts, faults = BROKEN[name]
    check = CHECKERS[name]
    found = next((seed for seed in range(100) if check(simulate(seed, faults_of(faults), parts=parts))), None)
    assert found is not None, f"{name} never failed on its broken variant in 100 seeds"


# -- the promises agentlab broke, and keeps now ---------------------------------------------------------
# Found by `agentlab sim explore --seeds 2000` (all faults, 6 sub-tasks) on a4d146d, before the fixes:
# exactly_once 404 of 2000 seeds violated (first: seed 0), truthful_outcome 39 (first: seed 39),
# budget_held 872 (first: seed 3). Each seed, and each shrunk schedule, is a regression test.
REGRESSIONS = [
    (0, "exactly_once"),
    (3, "budget_held"),
    (5, "budget_held"),
    (39, "truthful_outcome"),
    (0, "truthful_outcome"),
]
SHRUNK_DOUBLE_CHARGE = frozenset({("model_error", "Pay order ORD-2 of 39.00 for the customer./1"), ("reword", "p2/1")})


# Found after the fixes, once the nemesis also jumped the clock (a timeout mid-round re-plans a sub-task
# fresh) and crashed the supervisor: seed 527 crashed the resumed supervisor (KeyError: a result replayed
# from the journal kept the id of the incarnation that recorded it); seed 206 re-ran a fresh re-plan whose
# result was journaled (only the plan's own sub-tasks were looked up on resume). Both fixed in durable/run.py
# (`DurableRun.recall`) and fanout/round.py.
REGRESSIONS += [(527, "no_lost_subtask"), (527, "resume_redoes_nothing"), (206, "resume_redoes_nothing")]


@pytest.mark.parametrize(("seed", "checker"), REGRESSIONS)
def test_the_seeds_that_broke_a_promise_keep_it_now(seed: int, checker: str) -> None:
    history = simulate(seed, ALL)
    assert CHECKERS[checker](history) == [], history.timeline()


def test_the_shrunk_double_charge_pays_once_now() -> None:
    """Order ORD-2 paid, its agent's next model step failed, the re-plan reworded its goal: one charge."""
    history = simulate(0, ALL, size=3, schedule=SHRUNK_DOUBLE_CHARGE)
    assert {f for f, _ in history.meta["fired"]} == {"model_error", "reword"}  # the attack did happen
    assert any(r.data["goal"].count("  ") for r in history.of("planned"))  # in other words
    assert [r.data["first"] for r in history.of("charge") if r.subject == "ORD-2"].count(True) == 1


@pytest.mark.slow
def test_a_fixed_tier_of_2000_seeds_keeps_every_promise() -> None:
    report = explore(range(2000), ALL)
    assert report.violations == [], [(v.seed, v.checker, v.messages[0]) for v in report.violations[:5]]
    assert report.runs == 2000 and set(report.passed.values()) == {2000}


def test_a_history_draws_as_a_timeline_with_its_faults_marked() -> None:
    import matplotlib

    matplotlib.use("Agg")
    history = simulate(3, ALL)
    figure = history.plot()
    lanes = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert "fault" in lanes and "charge" in lanes and history.digest() in figure.axes[0].get_title()
    marked = [t.get_text() for t in figure.axes[0].texts]
    assert len(marked) == len(history.of("fault")) + len(history.of("crash")) > 0
