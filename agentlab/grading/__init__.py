"""Grading the §40.6 exercises with pytest: check in the notebook, grade from the command line (labs/README.md).

    check("ex2")                                 in a notebook: the exercise's checks on your live answers
    python -m agentlab.grading grade             the grader: each notebook's answers in a watched process
    python -m agentlab.grading student           the student notebooks, generated from the instructor ones

Modules: `exercises` (what is graded), `markers` and `student` (one source, two versions), `answers`
(cells by tag), `runner`, `worker` and `grade` (pytest in a watched process), `report` (scores),
`check` (in the notebook), `testkit` (what the checks in `checks/` are written with).
"""

from agentlab.grading.check import check
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
