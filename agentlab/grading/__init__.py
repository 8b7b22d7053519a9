"""Grading the §40.6 exercises with pytest: check in the notebook, grade from the command line (labs/README.md).

    check("ex2")                                 in a notebook: the exercise's checks on your live answers
    python -m agentlab.grading grade             the grader: answers in a sandbox, checks in a process of their own
    python -m agentlab.grading student           the student notebooks, generated from the instructor ones

Modules: `exercises` (what is graded, and its points), `markers` and `student` (one source, two
versions), `answers` (cells by tag, magics), `grade` (notebooks in batches), `checker` (the checking
process), `session` and `_learner` (the sandboxed answers and the channel to them), `runner`
(pytest), `report` (scores), `check` (in the notebook), `testkit` (what the checks in `checks/` are
written with). Names other than `check` are imported when first used, so that
`from agentlab.grading import check` does not load nbformat.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agentlab.grading.check import check  # eagerly: the submodule `check` would otherwise shadow the function

if TYPE_CHECKING:
    from agentlab.grading.exercises import EXERCISES, Exercise
    from agentlab.grading.grade import GradingError, grade_notebook, grade_paths
    from agentlab.grading.report import Grade, PartScore
    from agentlab.grading.student import generate, student_version

__all__ = [
    "EXERCISES",
    "Exercise",
    "Grade",
    "GradingError",
    "PartScore",
    "check",
    "generate",
    "grade_notebook",
    "grade_paths",
    "student_version",
]

_HOME = {
    "EXERCISES": "exercises",
    "Exercise": "exercises",
    "Grade": "report",
    "GradingError": "grade",
    "PartScore": "report",
    "generate": "student",
    "grade_notebook": "grade",
    "grade_paths": "grade",
    "student_version": "student",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'agentlab.grading' has no attribute {name!r}")
    return getattr(importlib.import_module(f"agentlab.grading.{_HOME[name]}"), name)
