"""Real nbgrader grades a simulator-graded task as it grades the exercises: lab 07, through generate and autograde.

`nbgrader generate_assignment` on lab 07's instructor notebook makes exactly our student form; `nbgrader
autograde` runs two submissions of its graded cells (as tests/grading/test_nbgrader.py does for the
exercises): the instructor's answers score every point of each task's check cell — the checker task's
cell runs its attack on simulated boards inside nbgrader's kernel — and the untouched student form none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from agentlab.grading import EXERCISES
from agentlab.grading.answers import tags_of

pytest.importorskip("nbgrader")

pytestmark = pytest.mark.timeout(1200)  # a backstop against hangs
LAB = EXERCISES["lab07"]
GRADED = ("setup", "answer:", "check:")


def _nbgrader(course: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["AGENTLAB_FAST"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--force", "--create"],
        cwd=course, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _graded_cells_only(path: Path, target: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if any(t.startswith(GRADED) for t in tags_of(c))]
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


@pytest.mark.slow
def test_nbgrader_generates_lab07_and_autogrades_its_tasks(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\nc.CourseDirectory.course_id = 'agentlab'\n"
        "c.ExecutePreprocessor.timeout = 300\n",
        encoding="utf-8",
    )
    name = LAB.source_path.name
    (tmp_path / "source" / "lab").mkdir(parents=True)
    shutil.copy(LAB.source_path, tmp_path / "source" / "lab" / name)
    _nbgrader(tmp_path, "generate_assignment", "lab")
    theirs = nbformat.read(tmp_path / "release" / "lab" / name, as_version=4)
    ours = nbformat.read(LAB.student_path, as_version=4)
    assert [(c.cell_type, c.source) for c in theirs.cells] == [(c.cell_type, c.source) for c in ours.cells]
    _graded_cells_only(LAB.source_path, tmp_path / "submitted" / "alice" / "lab" / name)
    _graded_cells_only(tmp_path / "release" / "lab" / name, tmp_path / "submitted" / "bob" / "lab" / name)
    _nbgrader(tmp_path, "autograde", "lab")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        for part, points in LAB.points.items():
            for student, expected in (("alice", points), ("bob", 0.0)):
                grade = gradebook.find_grade(f"{LAB.id}-{part}-check", LAB.notebook, "lab", student)
                assert grade.max_score == points and grade.auto_score == expected, (part, student, grade.auto_score)
