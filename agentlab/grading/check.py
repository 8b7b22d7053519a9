"""`check("ex2")`: the exercise's checks on the answers in the running notebook, scored as the grader scores.

It runs the same pytest checks as `python -m agentlab.grading grade`, in the notebook's own process,
against the notebook's variables — so run your answer cells first. Hidden checks never run here. Each
check has a time limit, so an answer that loops forever fails its check instead of freezing the kernel.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from agentlab.grading.exercises import EXERCISES
from agentlab.grading.report import Grade, score
from agentlab.grading.runner import run_checks
from agentlab.grading.testkit import Answers

__all__ = ["check"]


def check(exercise: str, namespace: Mapping[str, Any] | None = None, *, limit: float = 10.0) -> Grade:
    """Score the answers in `namespace` (default: the caller's globals, i.e. the notebook's variables)."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    found = EXERCISES[exercise]
    if namespace is None:
        caller = inspect.currentframe()
        namespace = caller.f_back.f_globals if caller and caller.f_back else {}
    hints = {
        name: f"its answer cell (tagged {found.tag(part)}) is not implemented yet, or has not been run"
        for part, names in found.parts.items()
        for name in names
    }
    outcomes, errors = run_checks([found.check_file], Answers(namespace, hints), limit=limit)
    return Grade("this notebook", found.id, found.title, tuple(score(found, outcomes)), "; ".join(errors))
