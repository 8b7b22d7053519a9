"""The course's promises, each a pure function over a simulated run's history (lab 07; README: Simulation).

A checker returns the empty list when its property holds, else one message per violation. It reads
only the history (`agentlab.sim.history`), never the code that made it, so the same checker judges a
run of agentlab, of a learner's component, or of a deliberately broken variant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from agentlab.sim.history import History

__all__ = ["CHECKERS", "Checker"]

Checker = Callable[[History], list[str]]


def exactly_once(history: History) -> list[str]:
    """Exactly-once effects: every order is charged at most once, whatever was retried, re-run,
    re-planned or resumed (a charge under a key the desk had seen is not a new charge)."""
    charged = Counter(r.subject for r in history.of("charge") if r.data["first"])
    return [f"{order} was charged {n} times" for order, n in sorted(charged.items()) if n > 1]


def no_lost_subtask(history: History) -> list[str]:
    """No lost sub-task: every sub-task the run planned ends with a result or a failure value before the run
    ends. After a crash the run is what the resumed supervisor planned: a re-plan the dead process made
    and never journaled died with it."""
    last = max((r.seq for r in history.of("resume")), default=-1)
    ended = {r.subject for r in history.of("result") if r.seq > last}
    planned = {r.subject for r in history.of("planned") if r.seq > last}
    if not history.of("outcome"):
        return ["the run never ended"]
    return [f"{tid} was planned and never ended" for tid in sorted(planned - ended)]


def truthful_outcome(history: History) -> list[str]:
    """Truthful outcome: the run ends `answer` only if some sub-task produced a result, and no execution
    of a sub-task in which its agent gave up comes back done (a later execution may succeed)."""
    wrong = [
        f"{r.subject} ended done although its agent gave up"
        for r in history.of("ran")
        if r.data["gave_up"] and r.data["state"] == "done"
    ]
    for r in history.of("outcome"):
        if r.data["stop_reason"] == "answer" and not any(x.data["state"] == "done" for x in history.of("result")):
            wrong.append("the run ended `answer` with no sub-task done")
    return wrong


def budget_held(history: History) -> list[str]:
    """Budgets hold: the tokens the model really used (counted at the model, not from the ledger) never
    exceed the limit, whatever replies it wrote; a run whose steps were refused for budget does not end
    `answer`."""
    wrong = [
        f"spent {r.data['tokens']} tokens of {r.data['limit']}"
        for r in history.of("spend")
        if r.data["tokens"] > r.data["limit"]
    ]
    refused = any(r.data["stop_reason"] == "budget" for r in history.of("result"))
    for r in history.of("outcome"):
        if refused and r.data["stop_reason"] == "answer":
            wrong.append("steps were refused for budget, yet the run ended `answer`")
    return wrong


def resume_redoes_nothing(history: History) -> list[str]:
    """A resumed run does not redo finished work: no sub-task step journaled before the crash runs again."""
    committed: set[str] = set()
    crashed, wrong = False, []
    for r in history:
        if r.kind == "commit" and not crashed:
            committed.add(str(r.data.get("journal", r.data["key"])))  # which step it is, whatever its key
        elif r.kind == "crash":
            crashed = True
        elif r.kind == "execute" and crashed and r.data["journal"] in committed:
            wrong.append(f"{r.subject} ran again after the resume although its result was journaled")
    return wrong


def replays_its_own_result(history: History) -> list[str]:
    """A resumed run takes only a step's own result: no sub-task looks up (by its journal key) a result the
    crashed run journaled for another step. Read from the commits before the crash (first writer of each
    key) and the lookups after it; a step is the same step across a fresh re-plan after a timeout. Only a
    run whose journal records which step each commit and key is has any (lab 04's `KeyedJournal`)."""
    owner: dict[str, tuple[str, str]] = {}
    crashed, wrong, told = False, [], set()
    for r in history:
        if r.kind == "commit" and not crashed and "identity" in r.data:
            owner.setdefault(str(r.data["key"]), (r.subject, str(r.data["identity"])))
        elif r.kind == "crash":
            crashed = True
        elif r.kind == "key" and r.data["use"] == "lookup" and crashed:
            path, identity = owner.get(str(r.data["key"]), ("", r.data["identity"]))
            if identity != r.data["identity"] and r.subject not in told:
                told.add(r.subject)
                wrong.append(f"{r.subject} was given the result journaled for another step ({path})")
    return wrong


CHECKERS: Mapping[str, Checker] = {
    "exactly_once": exactly_once,
    "no_lost_subtask": no_lost_subtask,
    "truthful_outcome": truthful_outcome,
    "budget_held": budget_held,
    "resume_redoes_nothing": resume_redoes_nothing,
}
