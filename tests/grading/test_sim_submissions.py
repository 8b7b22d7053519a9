"""The simulator-graded tasks through the grader itself: each submission sandboxed, the attack in the checker.

`python -m agentlab.grading grade`'s path (`grade_paths`) on a student lab notebook whose answer cell holds
each submission of `tests/test_sim_components.py`: a correct one scores the task's points, each wrong one
scores nothing and its message names the seed that broke it and how to replay it. The learner's function
runs in the sandbox and is asked a question per decision (thousands per attack) over the grader's channel.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from test_sim_components import CASES  # tests/ is on the path, as for `sandboxes`

from agentlab.grading import EXERCISES, Grade, grade_paths
from agentlab.grading.answers import tags_of

LABS = Path(__file__).resolve().parents[2] / "labs"
pytestmark = pytest.mark.timeout(900)  # a backstop against hangs: ten submissions graded at once


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    folder = tmp_path_factory.mktemp("sim-class")
    for task, name, source, _ in CASES:
        lab, part = task.split(".")
        exercise = EXERCISES[lab]
        notebook = nbformat.read(LABS / f"{exercise.notebook}.ipynb", as_version=4)
        for cell in notebook.cells:
            if exercise.tag(part) in tags_of(cell):
                cell.source = source.strip("\n")
        path = folder / f"{lab}-{name}" / f"{exercise.notebook}.ipynb"
        path.parent.mkdir()
        nbformat.write(notebook, path)
    return {Path(g.notebook).parent.name: g for g in grade_paths([folder], jobs=2)}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "name", "broken"), [(t, n, b) for t, n, _, b in CASES], ids=[f"{t}-{n}" for t, n, _, _ in CASES]
)
def test_the_grader_scores_a_component_pass_k_in_its_sandbox(
    grades: dict[str, Grade], task: str, name: str, broken: str | None
) -> None:
    lab, part = task.split(".")
    grade = grades[f"{lab}-{name}"]
    assert grade.error == "", grade.text()
    (score,) = [p for p in grade.parts if p.part == part]
    if broken is None:
        assert score.points == score.max_points > 0, grade.text()
    else:
        assert score.points == 0 and f" {broken}: " in score.message, grade.text()
        assert f'replay it with replay_seed("{task}", ' in score.message
