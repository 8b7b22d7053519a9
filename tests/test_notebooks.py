"""Every notebook runs top to bottom in a fresh kernel, in fast mode, and follows the labs' conventions.

Both the numbered labs and the exercises come in two forms: the instructor's (labs/source/,
labs/exercises/source/) and the generated student form (labs/, labs/exercises/). Instructor notebooks
must run without a single error and pass every check cell. Student notebooks may fail only where an
answer is still missing: in answer cells and in the given cells that read answers (both tagged
`raises-exception` in the student version), and only with NotImplementedError or the NameError that
follows from it; every check cell then says which answer is not implemented.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from agentlab.grading import EXERCISES
from agentlab.grading.answers import plain_python, tags_of
from agentlab.grading.exercises import exercise_of

LABS = Path(__file__).resolve().parents[1] / "labs"
NOTEBOOKS = sorted(p for p in LABS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
LESSONS = sorted(LABS.glob("source/[0-9][0-9]_*.ipynb"))
"""The numbered labs' instructor forms (00_setup, 01_agent_loop, ...)."""
SOURCES = [p for p in NOTEBOOKS if p.parent.name == "source"]
STUDENTS = [p for p in NOTEBOOKS if p.parent.name != "source"]
EXERCISE_NOTEBOOKS = [p for p in NOTEBOOKS if "exercises" in p.relative_to(LABS).parts]
CELL_TIMEOUT_S = 120
"""The longest any one cell may run; the whole notebook is bounded by the test's timeout mark."""
ALLOWED_ERRORS = {"NotImplementedError", "NameError"}


def _name(path: Path) -> str:
    return str(path.relative_to(LABS))


@pytest.fixture(scope="module")
def this_python_kernel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `python3` kernelspec that runs this interpreter, so the notebooks see this environment's agentlab."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (agentlab tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return root


def _execute(path: Path, kernels: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the notebook in a fresh kernel with AGENTLAB_FAST=1; return it with its outputs."""
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(kernels), os.environ.get("JUPYTER_PATH", "")]))
    monkeypatch.setenv("AGENTLAB_FAST", "1")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def _errors(notebook: Any) -> list[tuple[list[str], str, str]]:
    """(tags, error name, message) of every cell that raised."""
    return [
        (tags_of(cell), output["ename"], output["evalue"])
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "error"
    ]


def _text(cell: Any) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _checks(notebook: Any) -> list[Any]:
    return [c for c in notebook.cells if any(t.startswith("check:") for t in tags_of(c))]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_an_instructor_notebook_runs_clean_and_passes_every_check(
    path: Path, this_python_kernel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = _execute(path, this_python_kernel, monkeypatch)  # raises on the first error
    assert any(c.outputs for c in notebook.cells if c.cell_type == "code"), "the notebook ran but showed nothing"
    exercise = exercise_of(path, notebook.metadata)
    assert (exercise is not None) == bool(_checks(notebook)), "a notebook with checks is registered, and only then"
    for cell in _checks(notebook):
        assert "points" in _text(cell) and "FAIL" not in _text(cell), _text(cell)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", STUDENTS, ids=_name)
def test_a_student_notebook_runs_failing_only_where_answers_are_missing(
    path: Path, this_python_kernel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = _execute(path, this_python_kernel, monkeypatch)
    errors = _errors(notebook)
    assert bool(errors) == bool(_checks(notebook)), "a student notebook with every answer missing raises somewhere"
    for tags, name, message in errors:
        where = [t for t in tags if t.startswith("answer:") or t == "uses-answers"]
        assert where, f"an error outside the answer cells: {name}: {message} (tags {tags})"
        assert name in ALLOWED_ERRORS, f"{where}: {name}: {message}"
    for cell in _checks(notebook):
        assert " 0/" in _text(cell) and "FAIL" in _text(cell) and "not implemented" in _text(cell), _text(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_a_notebook_follows_the_conventions(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "agentlab/" in cells[0].source, "the title cell names the module(s) to read"
    code = [c for c in cells if c.cell_type == "code"]
    assert "parameters" in tags_of(code[0]) and "AGENTLAB_FAST" in code[0].source
    for cell in code:
        compile(plain_python(cell.source), f"{path.name} cell {cell.get('id')}", "exec")
        assert cell.outputs == [] and cell.execution_count is None
    if any("connect(" in c.source for c in code):
        assert "client.close()" in code[-1].source, "close the cluster in the last cell"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if exercise_of(p) is not None], ids=_name)
def test_a_graded_notebook_tags_each_answer_and_check_once(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    exercise = exercise_of(path, notebook.metadata)
    assert exercise is not None and exercise.notebook == path.stem
    tags = [t for c in notebook.cells for t in tags_of(c)]
    assert sorted(t for t in tags if t.startswith("answer:")) == sorted(exercise.tag(p) for p in exercise.parts)
    assert tags.count("setup") >= 1
    if exercise.folder:  # an exercise: one setup cell, one check cell for all its parts
        assert tags.count("setup") == 1 and tags.count(f"check:{exercise.id}") == 1
    else:  # a lab: each task checked in its own cell, right after its answer
        checks = sorted(t for t in tags if t.startswith("check:"))
        assert checks == sorted(f"check:{exercise.id}.{p}" for p in exercise.parts)
        for part in exercise.parts:
            cell = next(c for c in notebook.cells if f"check:{exercise.id}.{part}" in tags_of(c))
            assert f'check("{exercise.id}.{part}")' in cell.source


def test_every_graded_notebook_has_both_forms_and_the_readme_says_how_to_grade() -> None:
    assert {p.stem for p in SOURCES} == {p.stem for p in STUDENTS}
    assert {e.notebook for e in EXERCISES.values()} <= {p.stem for p in SOURCES}
    assert {p.stem for p in LESSONS} == {p.stem for p in STUDENTS if p.parent == LABS}
    readme = (LABS / "README.md").read_text(encoding="utf-8")
    assert "python -m agentlab.grading grade" in readme and "AGENTLAB_FAST" in readme
