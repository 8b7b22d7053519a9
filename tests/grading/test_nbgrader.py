"""Real nbgrader accepts the instructor notebooks: its student versions are ours, and its autograde runs our checks.

`nbgrader generate_assignment` runs on the three instructor notebooks as they are; the sources and
types of its cells must equal `agentlab student`'s. `nbgrader autograde` then grades two submissions
: the instructor's answers for every exercise (every point of the check cell, hidden checks included:
nbgrader puts them back), and one untouched student notebook (no point). The submissions keep only the cells that
grading needs, as a learner may delete the others, so that autograde does not start three Dask
clusters; the full notebooks run in tests/test_notebooks.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from agentlab.grading import EXERCISES
from agentlab.grading.answers import tags_of

pytest.importorskip("nbgrader")

pytestmark = pytest.mark.timeout(1800)  # a backstop against hangs: a whole class is graded at once

LABS = Path(__file__).resolve().parents[2] / "labs" / "exercises"
LABS_GRADED = (EXERCISES["lab01"], EXERCISES["lab07"])
"""Numbered labs graded the same way: one check cell per task, each worth its task's points (lab 07's checker
task runs its attack on simulated boards inside nbgrader's kernel)."""
GRADED = ("setup", "answer:", "check:")
EXERCISES_ONLY = [e for e in EXERCISES.values() if e.folder == "exercises"]


def _nbgrader(course: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["AGENTLAB_FAST"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--force", "--create"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _graded_cells_only(path: Path, target: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if any(t.startswith(GRADED) for t in tags_of(c))]
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def _shape(notebook: Any) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in notebook.cells]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = 'agentlab'\n"
        "c.ExecutePreprocessor.timeout = 300\n",
        encoding="utf-8",
    )
    shutil.copytree(LABS / "source", root / "source" / "ex", ignore=shutil.ignore_patterns(".*"))
    for lab in LABS_GRADED:
        shutil.copy(lab.source_path, root / "source" / "ex" / lab.source_path.name)
    _nbgrader(root, "generate_assignment", "ex")
    for exercise in [*EXERCISES_ONLY, *LABS_GRADED]:
        name = f"{exercise.notebook}.ipynb"
        _graded_cells_only(exercise.source_path, root / "submitted" / "alice" / "ex" / name)
    lab07 = f"{LABS_GRADED[1].notebook}.ipynb"  # bob hands in lab 07 untouched
    _graded_cells_only(root / "release" / "ex" / lab07, root / "submitted" / "bob" / "ex" / lab07)
    name = f"{EXERCISES['ex2'].notebook}.ipynb"
    _graded_cells_only(root / "release" / "ex" / name, root / "submitted" / "bob" / "ex" / name)
    _nbgrader(root, "autograde", "ex")
    return root


@pytest.mark.slow
def test_generate_assignment_makes_our_student_notebooks(course: Path) -> None:
    for exercise in [*EXERCISES_ONLY, *LABS_GRADED]:
        name = f"{exercise.notebook}.ipynb"
        theirs = nbformat.read(course / "release" / "ex" / name, as_version=4)
        ours = nbformat.read(exercise.student_path, as_version=4)
        assert _shape(theirs) == _shape(ours), name
        assert "BEGIN SOLUTION" not in nbformat.writes(theirs) and "BEGIN HIDDEN" not in nbformat.writes(theirs)


@pytest.mark.slow
def test_autograde_runs_the_hidden_checks_and_scores_the_check_cell(course: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for exercise in EXERCISES_ONLY:
            for student, expected in (("alice", exercise.max_points), ("bob", 0.0))[: 2 if exercise.id == "ex2" else 1]:
                grade = gradebook.find_grade(f"{exercise.id}-check", exercise.notebook, "ex", student)
                assert grade.max_score == exercise.max_points
                assert grade.auto_score == expected, (student, exercise.id, grade.auto_score)
        for lab in LABS_GRADED:  # a lab: each task's check cell is graded on its own
            for part, points in lab.points.items():
                students = (("alice", points), ("bob", 0.0))[: 2 if lab.id == "lab07" else 1]
                for student, expected in students:
                    grade = gradebook.find_grade(f"{lab.id}-{part}-check", lab.notebook, "ex", student)
                    assert grade.max_score == points and grade.auto_score == expected, (lab.id, part, student)
    autograded = nbformat.read(course / "autograded" / "alice" / "ex" / f"{EXERCISES['ex2'].notebook}.ipynb", 4)
    check = next(c for c in autograded.cells if "check:ex2" in tags_of(c))
    assert "BEGIN HIDDEN TESTS" in check.source  # nbgrader put the hidden checks back, and they ran
    printed = "".join(o.get("text", "") for o in check.outputs)
    assert "11/11 points" in printed and "FAIL" not in printed
