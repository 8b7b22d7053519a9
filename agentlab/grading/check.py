"""`check("ex2")`: the exercise's checks on the answers in the running notebook, scored as the grader scores.

It runs the same pytest checks as `python -m agentlab.grading grade`, in the notebook's own process,
against the notebook's variables — so run your answer cells first. Values reach the checks copied as
data, exactly as in grading. Each check has a time limit, so an answer that loops forever fails its
check instead of freezing the kernel. This is for feedback, not for credit: the notebook's own code
runs beside the checks here, so only `agentlab grade` (sandboxed) gives grades you can trust.

Hidden checks run when the calling cell holds them (the instructor's notebook, and nbgrader's
autograde, which puts them back into the check cell). Under nbgrader's autograde
(NBGRADER_EXECUTION=autograde) the report is printed and the cell's value shows as the points, which
nbgrader reads as the cell's partial credit.
"""

from __future__ import annotations

import inspect
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentlab.errors import UsageError
from agentlab.grading.exercises import EXERCISES
from agentlab.grading.markers import hidden_tests
from agentlab.grading.report import Grade, autograding, score
from agentlab.grading.runner import run_checks
from agentlab.grading.testkit import Answers, LocalSource

__all__ = ["check"]


def _cell_hidden_checks(namespace: Mapping[str, Any]) -> str:
    """The hidden-test regions of the cell being run (IPython keeps it last in `In`), or ''."""
    cells = namespace.get("In")
    if not isinstance(cells, list) or not cells or not isinstance(cells[-1], str):
        return ""
    try:
        return hidden_tests(cells[-1])
    except ValueError:
        return ""


def check(exercise: str, namespace: Mapping[str, Any] | None = None, *, limit: float = 10.0) -> Grade:
    """Score the answers in `namespace` (default: the caller's globals, i.e. the notebook's variables).

    `exercise` is an exercise ("ex2"), a lab ("lab02": all its tasks) or one task of a lab ("lab02.payment").
    """
    exercise, _, part = exercise.partition(".")
    if exercise not in EXERCISES:
        raise UsageError(f"unknown exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    found = EXERCISES[exercise]
    if part and part not in found.parts:
        raise UsageError(f"{exercise} has no task {part!r}; its tasks are {', '.join(found.parts)}")
    only = [part] if part else list(found.parts)
    if namespace is None:
        caller = inspect.currentframe()
        namespace = caller.f_back.f_globals if caller and caller.f_back else {}
    hints = {
        name: f"its answer cell (tagged {found.tag(part)}) is not implemented yet, or has not been run"
        for part, names in found.parts.items()
        for name in names
    }
    hidden = _cell_hidden_checks(namespace)
    with tempfile.TemporaryDirectory(prefix="agentlab-check-") as private, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader counts anything on stderr as a failed cell
        files = found.check_files
        if hidden:
            files.append(Path(private) / f"test_{found.id}_hidden.py")
            files[-1].write_text(hidden, encoding="utf-8")
        longest = max([limit, *(found.limits[p] for p in only if p in found.limits)])
        answers = Answers(LocalSource(namespace, longest), hints)
        outcomes, errors = run_checks(files, answers, limit=limit, only=only, limits=found.limits)
    scores = tuple(s for s in score(found, outcomes) if s.part in only)
    title = f"{found.title}: {part}" if part else found.title
    grade = Grade("this notebook", found.id, title, scores, "; ".join(errors), bool(hidden))
    if autograding():
        print(grade.text())
    return grade
