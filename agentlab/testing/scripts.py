"""Checking a scripted run: every reply of a `ScriptedModel` was used, on whichever worker (labs 01, 03)."""

from __future__ import annotations

from agentlab.errors import ScriptError
from agentlab.fanout.supervisor import FanOutResult
from agentlab.testing.scripted import ScriptedModel

__all__ = ["check_script"]


def check_script(model: ScriptedModel, result: FanOutResult) -> None:
    """Raise `ScriptError` listing the replies no step asked for.

    The supervisor's own steps are counted by `model` itself; each executor ran on a worker with its own
    copy, so its model steps are read from the sub-task's trace and matched to the script by its goal.
    """
    goals = {task.id: task.goal for plan in result.plans for task in plan.tasks}
    seen = []
    for r in result.results:
        key = next((k for k in model.scripts if k in goals.get(r.id, "")), None)
        steps = sum(1 for e in r.events if e.who == "model")
        if key is not None:
            seen += [(key, turn) for turn in range(steps)]
    left = model.unconsumed(seen)
    if left:
        raise ScriptError(f"{len(left)} scripted replies were never asked for: {left}")
