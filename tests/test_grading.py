"""The exercise grader: one source, two versions; solutions pass, stubs fail; wrong and mangled answers score 0.

Grading runs each notebook's answers in a sandbox and the checks in a process of their own (a few
seconds each), so the notebooks graded through the real grader are graded once per module and shared;
wrong answers that need no notebook go through `check()` in this process, which runs the very same
checks on the same data. tests/grading/ holds the class of correct and wrong submissions, the cheats,
and real nbgrader.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

import agentlab.grading as grading_api
from agentlab.errors import UsageError
from agentlab.grading import EXERCISES, Grade, check, cli, grade_notebook, grade_paths
from agentlab.grading.answers import locate, plain_python, tags_of
from agentlab.grading.cli import grade_main, main, student_main
from agentlab.grading.exercises import exercise_of
from agentlab.grading.markers import MarkerError, hidden_tests, strip
from agentlab.grading.report import write_csv
from agentlab.grading.student import leaks, problems, render, student_version

LABS = Path(__file__).resolve().parents[1] / "labs"
STUDENT = LABS / "exercises"
SOURCE = STUDENT / "source"
NOTEBOOKS = {ex.id: ex.notebook + ".ipynb" for ex in EXERCISES.values() if ex.folder == "exercises"}
"""The §40.6 exercises (the labs' tasks are graded by the same code; tests/test_lab_tasks.py)."""


def _parts(grade: Grade) -> dict[str, Any]:
    return {p.part: p for p in grade.parts}


def _source(exercise: str) -> Any:
    return nbformat.read(EXERCISES[exercise].source_path, as_version=4)


def _answer_cell(notebook: Any, exercise: str, part: str) -> Any:
    tag = EXERCISES[exercise].tag(part)
    return next(c for c in notebook.cells if tag in tags_of(c))


def _variant(tmp_path: Path, exercise: str, edit: Callable[[Any], None], name: str | None = None) -> Path:
    """A copy of the instructor notebook with `edit` applied, saved under the student notebook's name."""
    notebook = _source(exercise)
    edit(notebook)
    path = tmp_path / (name or NOTEBOOKS[exercise])
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return path


def _solutions(exercise: str) -> dict[str, Any]:
    """The instructor's answers, run in this process: setup cell, then every answer cell."""
    located = locate(_source(exercise).cells, EXERCISES[exercise])
    namespace: dict[str, Any] = {}
    for source in [*located.setup, *(s for _, s in located.answers)]:
        exec(compile(source, "<solution>", "exec"), namespace)
    return namespace


# -- one source, two versions ------------------------------------------------------------------------


def test_a_solution_region_becomes_a_stub_at_its_indent() -> None:
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\n\ny = f(1)"
    assert strip(source, code=True) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\ny = f(1)"
    )


def test_markdown_solutions_become_a_prompt_and_hidden_tests_vanish() -> None:
    text = "Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert strip(text, code=False) == "Why?\n\nYOUR ANSWER HERE"
    cell = "### BEGIN HIDDEN TESTS\ndef test_x(answers):\n    pass\n### END HIDDEN TESTS\ncheck('ex1')"
    assert strip(cell, code=True) == "check('ex1')"
    assert hidden_tests(cell) == "def test_x(answers):\n    pass\n"
    assert strip("x = 1\n", code=True) == "x = 1\n"  # no markers: untouched


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "cannot nest"),
        ("### BEGIN SOLUTION\nx = 1", "has no END marker"),
        ("x = 1\n### END SOLUTION", "never began"),
        ("### BEGIN HIDDEN TESTS\n### END SOLUTION", "never began"),
    ],
)
def test_markers_that_do_not_pair_up_are_errors(source: str, problem: str) -> None:
    with pytest.raises(MarkerError, match=problem):
        strip(source, code=True)


def test_the_committed_student_notebooks_are_fresh_and_leak_nothing() -> None:
    assert problems(SOURCE, STUDENT) == []
    for name in NOTEBOOKS.values():
        source = nbformat.read(SOURCE / name, as_version=4)
        assert render(student_version(source)) == render(student_version(source))  # deterministic
        assert (STUDENT / name).read_text(encoding="utf-8") == render(student_version(source))


def test_the_freshness_check_catches_stale_and_leaking_notebooks(tmp_path: Path) -> None:
    sources, out = tmp_path / "source", tmp_path / "out"
    shutil.copytree(SOURCE, sources)
    out.mkdir()
    assert any("missing" in p for p in problems(sources, out))
    assert main(["student", "--source", str(sources), "--out", str(out)]) == 0
    assert problems(sources, out) == []
    # an instructor edits a solution and forgets to regenerate: the old student copy is stale
    notebook = nbformat.read(sources / NOTEBOOKS["ex2"], as_version=4)
    _answer_cell(notebook, "ex2", "engine").source += "\n# a changed comment"
    nbformat.write(notebook, sources / NOTEBOOKS["ex2"])
    assert any("stale" in p for p in problems(sources, out))
    # a student copy that was edited by hand to show an answer leaks it
    student = nbformat.read(out / NOTEBOOKS["ex3"], as_version=4)
    student.cells[-1].source += "\n    return sum(latencies) - max(latencies)"
    nbformat.write(student, out / NOTEBOOKS["ex3"])
    found = problems(sources, out)
    assert any("leaks solution text: 'return sum(latencies) - max(latencies)'" in p for p in found), found
    assert student_main(["--check", "--source", str(sources), "--out", str(out)]) == 1


def test_no_solution_or_hidden_check_text_reaches_a_student_notebook() -> None:
    for name in NOTEBOOKS.values():
        source = nbformat.read(SOURCE / name, as_version=4)
        student = nbformat.read(STUDENT / name, as_version=4)
        assert leaks(source, student) == []
        text = (STUDENT / name).read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text


def test_student_answer_cells_may_raise_and_check_cells_are_locked() -> None:
    for name in NOTEBOOKS.values():
        for cell in nbformat.read(STUDENT / name, as_version=4).cells:
            tags = tags_of(cell)
            if any(t.startswith("answer:") for t in tags) or "uses-answers" in tags:
                assert "raises-exception" in tags
            if any(t.startswith("check:") for t in tags):
                assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False


def test_no_notebook_in_the_repository_has_stored_outputs() -> None:
    notebooks = sorted(LABS.rglob("*.ipynb"))
    assert len(notebooks) >= 6
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path} has stored outputs"


def test_every_check_grades_a_known_part_and_every_part_has_checks() -> None:
    for exercise in EXERCISES.values():
        checked = set()
        hidden = "".join(hidden_tests(c.source) for c in _source(exercise.id).cells)
        for text in (*(f.read_text(encoding="utf-8") for f in exercise.check_files), hidden):
            for line in text.splitlines():
                if line.startswith("@graded("):
                    part = line.split('"')[1]
                    assert part in exercise.parts, f"{exercise.id}: a check grades unknown part {part!r}"
                    checked.add(part)
        assert checked == set(exercise.parts)


# -- finding answers ---------------------------------------------------------------------------------


def test_answers_are_found_by_tag_with_a_reason_for_each_missing_part() -> None:
    notebook = _source("ex2")
    cells = [c for c in notebook.cells if "answer:ex2.critical_path" not in tags_of(c)]  # deleted
    timeout = _answer_cell(notebook, "ex2", "timeout")
    cells.insert(3, timeout)  # a copy, at another position
    engine = _answer_cell(notebook, "ex2", "engine")
    engine.cell_type = "markdown"  # retyped
    located = locate(cells, EXERCISES["ex2"])
    assert located.answers == []
    assert "no cell is tagged answer:ex2.critical_path" in located.problems["critical_path"]
    assert "2 cells are tagged answer:ex2.timeout" in located.problems["timeout"]
    assert "is a markdown cell now" in located.problems["engine"]


def test_magics_are_skipped_and_exercises_are_told_apart() -> None:
    assert plain_python("%time x = 1\n!pip list\ny = 2") == "x = 1\npass  # (shell escape skipped) !pip list\ny = 2"
    assert plain_python("if x:\n    %matplotlib inline") == "if x:\n    pass  # (magic skipped) %matplotlib inline"
    assert plain_python("%%timeit -n 1\nz = 3") == "# (cell magic) %%timeit -n 1\nz = 3"
    assert plain_python("%%bash\nls") == "# (cell magic skipped) %%bash\n# (cell magic skipped) ls"
    assert plain_python("files = !ls") == "files = None  # (magic skipped) !ls"
    assert exercise_of(Path("alice-ex3-final.ipynb")) is EXERCISES["ex3"]
    assert exercise_of(Path("renamed.ipynb"), {"agentlab": {"exercise": "ex1"}}) is EXERCISES["ex1"]
    assert exercise_of(Path("notes.ipynb")) is None


# -- wrong answers fail with a useful message (the grader's own checks, in this process) ----------------


def _check_part(exercise: str, part: str, **wrong: Any) -> tuple[float, str]:
    answers = {**_solutions(exercise), **wrong}
    score = _parts(check(exercise, answers))[part]
    return score.points, score.message


def test_the_solutions_pass_every_check_in_process() -> None:
    for exercise in EXERCISES:
        grade = check(exercise, _solutions(exercise))
        assert grade.points == grade.max_points > 0, grade.text()


def test_a_ceiling_of_one_over_p_fails() -> None:
    points, message = _check_part("ex1", "ceiling", speedup_ceiling=lambda p: 1 / p if p else 1.0)
    assert points == 0 and "speedup_ceiling(0.85) returned 1.176, expected 6.667 = 1/(1 - 0.85)" in message


def test_p_estimates_out_of_range_fail() -> None:
    estimates = {"briefs": 0.85, "debug": 0.8, "prices": 0.95}
    points, message = _check_part("ex1", "p_estimates", P_ESTIMATES=estimates)
    assert points == 0 and "P_ESTIMATES['debug'] = 0.8 is outside the accepted band [0.00, 0.20]" in message
    points, message = _check_part("ex1", "p_estimates", P_ESTIMATES={**estimates, "debug": 0.05, "prices": 1.0})
    assert points == 0 and "P_ESTIMATES['prices'] = 1: p is a fraction of the work in [0, 1)" in message


def test_a_wrong_classification_says_why() -> None:
    wrong = {"briefs": "fan-out", "debug": "fan-out", "prices": "fan-out"}
    points, message = _check_part("ex1", "classify", CLASSIFICATION=wrong)
    assert points == 0 and "CLASSIFICATION['debug'] = 'fan-out', but it is mostly sequential" in message


def test_a_path_that_ignores_the_retry_fails() -> None:
    def ignores_retry(latencies: list[float], straggler_index: int, retry_index: int) -> float:
        paths = list(latencies)
        paths[straggler_index] *= 10
        return max(paths)

    points, message = _check_part("ex2", "critical_path", parallel_critical_path=ignores_retry)
    assert points == 0 and "returned 0.5, expected 1.0: sub-task 2 fails once and is retried" in message


def test_a_timeout_applied_to_the_straggler_alone_fails() -> None:
    def straggler_only(latencies: list[float], straggler: int, retry: int, timeout: float) -> float:
        paths = [ell * (10 if i == straggler else 1) * (2 if i == retry else 1) for i, ell in enumerate(latencies)]
        paths[straggler] = min(paths[straggler], timeout + latencies[straggler])
        return max(paths)

    points, message = _check_part("ex2", "timeout", worst_case_path=straggler_only)
    assert points == 0 and "is a healthy one still running at 0.15 s?" in message and "0.15 + 0.3" not in message


def test_a_reversed_inequality_fails() -> None:
    points, message = _check_part("ex3", "condition", fanout_beats_sequential=lambda c, lat, q: c > sum(lat) - max(lat))
    assert points == 0 and "returned False, expected True" in message and "is your inequality reversed?" in message


def test_a_condition_that_keeps_q_on_one_side_fails() -> None:
    def forgets_to_cancel(c: float, latencies: list[float], q: float) -> bool:
        return (c + max(latencies)) / q < sum(latencies)

    points, message = _check_part("ex3", "condition", fanout_beats_sequential=forgets_to_cancel)
    assert points == 0 and "so 1/q cancels" in message


def test_an_answer_that_loops_forever_times_out_in_check() -> None:
    def forever(c: float, latencies: list[float], q: float) -> float:
        while True:
            pass

    grade = check("ex3", {**_solutions("ex3"), "expected_fanout_time": forever}, limit=0.5)
    assert "timed out after 0.5 s" in _parts(grade)["expected_times"].message
    assert _parts(grade)["condition"].points == _parts(grade)["condition"].max_points


def test_check_rejects_an_unknown_exercise() -> None:
    with pytest.raises(UsageError, match="the exercises are ex1, ex2, ex3"):
        check("ex9", {})


# -- the grader on notebooks: all points, zero points, and mangled notebooks ---------------------------


@pytest.fixture(scope="module")
def solution_grades() -> list[Grade]:
    """The instructor notebooks, graded as an instructor grades: hidden checks included."""
    return grade_paths([SOURCE], instructor=True, jobs=2)


@pytest.fixture(scope="module")
def student_grades(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Grade], Path]]:
    """A class folder: the three student notebooks, one that is not JSON, and one that is no exercise."""
    folder = tmp_path_factory.mktemp("submissions")
    for name in NOTEBOOKS.values():
        shutil.copy(STUDENT / name, folder / name)
    (folder / "bob_ex2.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "notes.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    grades = grade_paths([folder], jobs=2)
    write_csv(grades, folder / "grades.csv")
    yield grades, folder / "grades.csv"


@pytest.mark.slow
def test_the_solution_notebooks_score_all_points_hidden_checks_included(solution_grades: list[Grade]) -> None:
    assert sorted(g.exercise for g in solution_grades) == ["ex1", "ex2", "ex3"]
    for grade in solution_grades:
        assert grade.error == "" and grade.hidden
        assert grade.points == grade.max_points == EXERCISES[grade.exercise].max_points, grade.text()
        assert not grade.notes, grade.notes  # no warning: the sandbox hid the grader's files


@pytest.mark.slow
def test_the_student_notebooks_score_zero_every_part_not_implemented(
    student_grades: tuple[list[Grade], Path],
) -> None:
    grades = {Path(g.notebook).name: g for g in student_grades[0]}
    for name in NOTEBOOKS.values():
        grade = grades[name]
        assert grade.points == 0 and grade.max_points > 0 and not grade.hidden
        for part in grade.parts:
            assert part.message.startswith("not implemented:"), part


@pytest.mark.slow
def test_unreadable_and_unknown_notebooks_are_reported_not_fatal(student_grades: tuple[list[Grade], Path]) -> None:
    grades = {Path(g.notebook).name: g for g in student_grades[0]}
    broken = grades["bob_ex2.ipynb"]
    assert broken.exercise == "ex2" and broken.points == 0 and broken.max_points > 0
    assert broken.error.startswith("cannot read the notebook")
    assert all(p.message.startswith("cannot read the notebook") for p in broken.parts)
    assert grades["notes.ipynb"].error.startswith("not an exercise notebook")


@pytest.mark.slow
def test_a_folder_of_submissions_grades_into_a_csv(student_grades: tuple[list[Grade], Path]) -> None:
    with open(student_grades[1], newline="", encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    assert list(rows[0]) == ["notebook", "exercise", "part", "points", "max_points", "message"]
    per_notebook = {Path(r["notebook"]).name for r in rows}
    assert per_notebook == {*NOTEBOOKS.values(), "bob_ex2.ipynb", "notes.ipynb"}
    ex1 = [r for r in rows if r["notebook"].endswith(NOTEBOOKS["ex1"])]
    assert [r["part"] for r in ex1] == list(EXERCISES["ex1"].parts)
    assert all(r["points"] == "0" and r["message"].startswith("not implemented") for r in ex1)


@pytest.mark.slow
def test_deleted_duplicated_and_broken_answer_cells_score_zero_for_their_part_only(tmp_path: Path) -> None:
    def mangle(notebook: Any) -> None:
        notebook.cells.remove(_answer_cell(notebook, "ex2", "critical_path"))
        copied = copy.deepcopy(_answer_cell(notebook, "ex2", "timeout"))
        copied.id = "copied-cell"  # a copy gets a new id and keeps its tags, as in JupyterLab
        notebook.cells.append(copied)
        _answer_cell(notebook, "ex2", "engine").source = 'ENGINE_FEATURES = {"straggler": "wait_all",'

    grade = grade_notebook(_variant(tmp_path, "ex2", mangle))
    parts = _parts(grade)
    assert grade.error == "" and grade.points == 0
    assert "no cell is tagged answer:ex2.critical_path" in parts["critical_path"].message
    assert "2 cells are tagged answer:ex2.timeout" in parts["timeout"].message
    assert parts["engine"].message.startswith("SyntaxError in the answer cell answer:ex2.engine, line 1")


@pytest.mark.slow
def test_wrong_answers_in_a_notebook_fail_their_parts_with_the_reason(tmp_path: Path) -> None:
    def wrong(notebook: Any) -> None:
        cell = _answer_cell(notebook, "ex3", "condition")
        cell.source = cell.source.replace("return c < break_even_overhead(latencies)", "return c > sum(latencies)")
        cell = _answer_cell(notebook, "ex3", "expected_times")
        cell.source = cell.source.replace("return sum(latencies) / q", "return sum(latencies) * q")

    parts = _parts(grade_notebook(_variant(tmp_path, "ex3", wrong)))
    assert "is your inequality reversed?" in parts["condition"].message
    assert (
        "expected_sequential_time([0.2, 0.3, 0.5], 0.5) returned 0.5, expected 2.0" in parts["expected_times"].message
    )
    assert parts["regime"].points == parts["regime"].max_points  # the other parts are unaffected


@pytest.mark.slow
def test_infinite_loops_score_zero_and_the_grader_still_finishes(tmp_path: Path) -> None:
    def loops(notebook: Any) -> None:
        # a Python loop in an answer cell: the alarm interrupts it
        _answer_cell(notebook, "ex1", "classify").source = "while True:\n    pass"
        # a loop inside C code that never returns to Python: only killing the worker stops it
        _answer_cell(
            notebook, "ex1", "fitted"
        ).source = "import itertools\n\ndef fitted_p(result, workers):\n    return sum(itertools.count())"

    grade = grade_notebook(_variant(tmp_path, "ex1", loops), limit=1.0)
    parts = _parts(grade)
    assert (
        parts["classify"].points == 0
        and "timed out after 1 s while running the answer cell" in parts["classify"].message
    )
    assert parts["fitted"].points == 0 and "timed out after 1 s" in parts["fitted"].message
    assert parts["ceiling"].points == parts["ceiling"].max_points  # graded on the rerun, without the hung part


@pytest.mark.slow
def test_an_answer_that_kills_its_process_scores_zero_for_its_part(tmp_path: Path) -> None:
    def exits(notebook: Any) -> None:
        _answer_cell(notebook, "ex2", "engine").source = "import os\nos._exit(3)"

    parts = _parts(grade_notebook(_variant(tmp_path, "ex2", exits)))
    assert parts["engine"].points == 0 and "the answers' process stopped" in parts["engine"].message
    assert parts["timeout"].points == parts["timeout"].max_points


@pytest.mark.slow
def test_the_grade_command_prints_a_score_per_part(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", str(STUDENT / NOTEBOOKS["ex3"])]) == 0
    printed = capsys.readouterr().out
    assert "ex3 · Cost of a round versus a fan-out: 0/10 points" in printed
    assert "FAIL  condition         0/4  not implemented: `fanout_beats_sequential` still raises" in printed
    assert "(hidden checks run only in instructor grading)" in printed and "total: 0/10 points" in printed


def test_the_public_grading_api_is_pinned() -> None:
    assert grading_api.__all__ == [
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
    assert all(callable(getattr(cli, name, None)) for name in ("grade_main", "student_main", "main"))  # CLI hooks


def test_without_notebooks_the_grade_command_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENTLAB_LABS", str(tmp_path))
    assert grade_main([]) == 2
    assert f"no notebooks in {tmp_path}" in capsys.readouterr().err


def test_instructor_grading_needs_the_source_notebooks(tmp_path: Path) -> None:
    path = tmp_path / NOTEBOOKS["ex1"]
    shutil.copy(STUDENT / NOTEBOOKS["ex1"], path)
    assert grade_main([str(path), "--instructor", "--source", str(tmp_path / "nowhere")]) == 2
    assert grade_main([str(tmp_path / "empty-folder-that-does-not-exist")]) == 2
