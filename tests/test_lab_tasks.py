"""The labs' checked tasks run on the exercises' grading code: `check("labNN.part")` scores one task alone."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest

from agentlab.errors import UsageError
from agentlab.grading import EXERCISES, check
from agentlab.grading.answers import locate
from agentlab.grading.labtasks import LAB_TASKS


def _solutions(lab: str) -> dict[str, Any]:
    """The instructor's answers of one lab, run here: its setup cells, then every answer cell."""
    located = locate(nbformat.read(EXERCISES[lab].source_path, as_version=4).cells, EXERCISES[lab])
    namespace: dict[str, Any] = {}
    for source in [*located.setup, *(s for _, s in located.answers)]:
        exec(compile(source, f"<{lab} solution>", "exec"), namespace)
    return namespace


def test_every_lab_with_tasks_is_graded_like_an_exercise() -> None:
    for lab_id, lab in LAB_TASKS.items():
        exercise = EXERCISES[lab_id]
        assert exercise.folder == "" and exercise.source_path.exists() and exercise.student_path.exists()
        assert set(exercise.parts) == set(lab.tasks) and exercise.check_files


@pytest.mark.parametrize("part", list(EXERCISES["lab01"].parts))
def test_one_task_is_checked_alone(part: str) -> None:
    grade = check(f"lab01.{part}", _solutions("lab01"))
    assert [p.part for p in grade.parts] == [part] and grade.points == grade.max_points > 0, grade.text()


def test_a_wrong_answer_fails_its_task_with_a_reason_and_no_rule_spelled_out() -> None:
    wrong = {**_solutions("lab01"), "finish_within": lambda q, n: q * n}
    grade = check("lab01.turns", wrong)
    assert grade.points == 0
    message = grade.parts[0].message
    assert "finish_within(0.3, 10) returned 3" in message and "1 - (1 - q)" not in message


def test_a_missing_answer_says_which_cell_to_run() -> None:
    grade = check("lab01.turns", {})
    assert grade.points == 0 and "answer:lab01.turns" in grade.parts[0].message


def test_an_unknown_task_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="lab01 has no task 'nope'; its tasks are turns"):
        check("lab01.nope", {})
