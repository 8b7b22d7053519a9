"""Instructor grading, measured on submissions written from each notebook's specification.

For each exercise: ten correct-but-different notebooks each score full marks, and every subtly wrong
one (at least twenty) loses exactly the part it gets wrong, and keeps every other part. The answers
are put into the committed student notebooks, and the whole class is graded once, sandboxed, hidden
checks included, two checking processes at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from agentlab.grading import EXERCISES, Grade, grade_paths
from agentlab.grading.answers import tags_of

from . import submissions_ex1, submissions_ex2, submissions_ex3

STUDENT = Path(__file__).resolve().parents[2] / "labs" / "exercises"
pytestmark = pytest.mark.timeout(1800)  # a backstop against hangs: a whole class is graded at once

SUITES = {"ex1": submissions_ex1, "ex2": submissions_ex2, "ex3": submissions_ex3}
SOLUTION_MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN")


def write_submission(folder: Path, name: str, exercise: str, cells: dict[str, str], setup: str = "") -> Path:
    """The student notebook of `exercise` with `cells` (part -> source) as its answer cells (and `setup`)."""
    ex = EXERCISES[exercise]
    notebook = nbformat.read(STUDENT / f"{ex.notebook}.ipynb", as_version=4)
    for cell in notebook.cells:
        if setup and "setup" in tags_of(cell):
            cell.source = setup
        for part, source in cells.items():
            if ex.tag(part) in tags_of(cell):
                cell.source = source.strip("\n")
    path = folder / f"{name}_{exercise}.ipynb"
    nbformat.write(notebook, path)
    return path


def _cases() -> list[tuple[str, str, str | None]]:
    """(exercise, submission name, the part it gets wrong or None)."""
    cases: list[tuple[str, str, str | None]] = []
    for exercise, suite in SUITES.items():
        cases += [(exercise, f"ok-{name}", None) for name in suite.CORRECT]
        cases += [(exercise, f"bad-{name}", part) for name, part, _ in suite.WRONG]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    folder = tmp_path_factory.mktemp("class")
    for exercise, suite in SUITES.items():
        for name, cells in suite.CORRECT.items():
            write_submission(folder, f"ok-{name}", exercise, cells)
        for name, part, source in suite.WRONG:
            write_submission(folder, f"bad-{name}", exercise, {**suite.BASE, part: source})
    graded = grade_paths([folder], instructor=True, jobs=2)
    return {Path(g.notebook).stem: g for g in graded}


def test_each_suite_is_big_enough() -> None:
    for suite in SUITES.values():
        assert len(suite.CORRECT) >= 10 and len(suite.WRONG) >= 20
        assert {part for _, part, _ in suite.WRONG} == set(EXERCISES[suite.__name__[-3:]].parts)


@pytest.mark.slow
@pytest.mark.parametrize(("exercise", "name", "wrong_part"), CASES, ids=[f"{e}-{n}" for e, n, _ in CASES])
def test_a_submission_loses_exactly_the_part_it_gets_wrong(
    grades: dict[str, Grade], exercise: str, name: str, wrong_part: str | None
) -> None:
    grade = grades[f"{name}_{exercise}"]
    assert grade.exercise == exercise and grade.hidden and grade.error == "", grade.text()
    assert grade.max_points == EXERCISES[exercise].max_points
    for part in grade.parts:
        if part.part == wrong_part:
            assert part.points == 0 and part.message, grade.text()
        else:
            assert part.points == part.max_points, grade.text()
    assert not any(marker in grade.text() for marker in SOLUTION_MARKERS)
    assert not [n for n in grade.notes if n.startswith("warning")], grade.notes  # the sandbox hid the grader's files


def parts_of(grade: Grade) -> dict[str, Any]:
    return {p.part: p for p in grade.parts}


def _run_until_the_cluster(exercise: str, answers: dict[str, str], edit: Callable[[str], str] = str) -> dict[str, Any]:
    """Run the student notebook's code cells in order, with `answers` in its answer cells, up to its cluster part
    (check cells skipped); `edit` rewrites each other cell's source first. Returns the notebook's namespace."""
    ex = EXERCISES[exercise]
    namespace: dict[str, Any] = {"display": print}
    for cell in nbformat.read(STUDENT / f"{ex.notebook}.ipynb", as_version=4).cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## Run it on the cluster"):
            break
        tags = tags_of(cell)
        if cell.cell_type != "code" or any(t.startswith("check:") for t in tags):
            continue
        parts = [p for p in ex.parts if ex.tag(p) in tags]
        source = answers[parts[0]] if parts else edit(cell.source)
        exec(compile(source, f"<{ex.notebook}>", "exec"), namespace)
    return namespace


def test_an_answer_that_changes_its_list_does_not_corrupt_the_exercise_s_plan() -> None:
    # a wrong answer (it scales the list it is given in place) must cost its part, not every later cell: the
    # cluster cells run LATENCIES, and a corrupted plan there is a 141 s straggler and a bare AssertionError
    mutating = dict((name, source) for name, _, source in submissions_ex2.WRONG)["changes_the_list"]
    answers = {**submissions_ex2.BASE, "critical_path": mutating}
    course = [0.131, 0.088, 0.213, 0.068, 0.184, 0.141, 0.064, 0.177]
    assert _run_until_the_cluster("ex2", answers)["LATENCIES"] == course
    # the broken variant: cells that hand the learner's function the notebook's own list
    broken = _run_until_the_cluster("ex2", answers, lambda s: s.replace("list(LATENCIES)", "LATENCIES"))
    assert broken["LATENCIES"] != course
    cells = nbformat.read(STUDENT / "ex2_straggler_and_retry.ipynb", as_version=4).cells
    calls = [c.source for c in cells if "uses-answers" in tags_of(c)]
    assert calls and not any(
        f"{f}(LATENCIES" in s for s in calls for f in ("parallel_critical_path", "worst_case_path")
    )
