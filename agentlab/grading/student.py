"""Student notebooks, generated from the instructor's: the answers become stubs, the hidden checks vanish.

    labs/exercises/source/ex2_straggler_and_retry.ipynb    the single source: solutions and hidden checks
    labs/exercises/ex2_straggler_and_retry.ipynb           generated, committed, what learners open
    labs/source/02_tools_as_rpc.ipynb                      a numbered lab's source, with its checked tasks
    labs/02_tools_as_rpc.ipynb                             its student form

The student version (nbgrader's `generate_assignment`, in small):

    1. each solution region becomes `# YOUR CODE HERE` / `raise NotImplementedError()` at its indent
       (markdown: "YOUR ANSWER HERE"); each hidden-test region is removed;
    2. outputs and execution counts are cleared;
    3. answer cells, and given cells that read answers, are tagged `raises-exception`, so the notebook
       still runs top to bottom in CI; answer and check cells cannot be deleted, check cells not edited.

Generation is deterministic, so CI can demand that the committed student notebooks are exactly what
`generate()` writes, and that none of them contains a line from inside a solution or hidden region.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat

from agentlab.grading.answers import tags_of
from agentlab.grading.exercises import ANSWER, CHECK, FOLDERS, USES_ANSWERS, exercise_of, labs_dir
from agentlab.grading.markers import CODE_STUB, TEXT_STUB, MarkerError, region_lines, strip

__all__ = ["generate", "leaks", "problems", "render", "stamp", "student_version"]


def _pairs(sources: Path | None, out: Path | None) -> list[tuple[Path, Path]]:
    """(instructor folder, student folder) pairs: the ones named, else the exercises' and the labs'."""
    if sources is not None or out is not None:
        exercises = labs_dir() / "exercises"
        return [(sources or exercises / "source", out or exercises)]
    return [(labs_dir() / folder / "source", labs_dir() / folder) for folder in FOLDERS]


def _source(cell: Any) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else str(cell.source)


def _student_cell(cell: Any) -> None:
    tags = tags_of(cell)
    cell.source = strip(_source(cell), code=cell.cell_type == "code")
    cell.metadata.pop("execution", None)
    if cell.cell_type != "code":
        return
    cell.outputs, cell.execution_count = [], None
    if any(t.startswith(ANSWER) for t in tags) or USES_ANSWERS in tags:
        cell.metadata["tags"] = [*tags, "raises-exception"] if "raises-exception" not in tags else tags
    if any(t.startswith((ANSWER, CHECK)) for t in tags):
        cell.metadata["deletable"] = False
    if any(t.startswith(CHECK) for t in tags):
        cell.metadata["editable"] = False


def stamp(source: Any, path: Path) -> bool:
    """Give a lab's answer and check cells the nbgrader metadata their tags imply; True if anything changed.

    The exercises carry theirs by hand; a lab's tasks come and go with the lab, so generation keeps them
    in line: each answer cell is a solution cell (`labNN-<part>`), each check cell a locked, graded cell
    (`labNN-<part>-check`) worth the task's points.
    """
    exercise = exercise_of(path, source.metadata)
    if exercise is None or exercise.folder:
        return False
    changed = False
    for cell in source.cells:
        for tag in tags_of(cell):
            kind, _, rest = tag.partition(":")
            lab, _, part = rest.partition(".")
            if kind not in ("answer", "check") or lab != exercise.id or part not in exercise.parts:
                continue
            wanted: dict[str, Any] = {"locked": kind == "check", "schema_version": 3, "solution": kind == "answer"}
            wanted |= {"grade": kind == "check", "grade_id": f"{lab}-{part}" + ("-check" if kind == "check" else "")}
            if kind == "check":
                wanted["points"] = exercise.points[part]
            if cell.metadata.get("nbgrader") != wanted:
                cell.metadata["nbgrader"], changed = wanted, True
    return changed


def student_version(source: Any) -> Any:
    """The student notebook for an instructor notebook (`MarkerError` if its markers do not pair up)."""
    notebook = copy.deepcopy(source)
    for number, cell in enumerate(notebook.cells, start=1):
        try:
            _student_cell(cell)
        except MarkerError as exc:
            raise MarkerError(f"cell {number}: {exc}") from exc
    notebook.metadata.setdefault("agentlab", {})["version"] = "student"
    return notebook


def render(notebook: Any) -> str:
    """The notebook as the exact text written to disk."""
    text: str = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def generate(sources: Path | None = None, out: Path | None = None) -> list[Path]:
    """Write the student version of every instructor notebook in `sources` to `out`; return the paths.

    A lab's source is stamped first (`stamp`) and rewritten if its graded cells' metadata changed.
    """
    written = []
    for folder, into in _pairs(sources, out):
        for path in sorted(folder.glob("*.ipynb")):
            source = nbformat.read(path, as_version=4)
            if stamp(source, path):
                path.write_text(render(source), encoding="utf-8")
            target = into / path.name
            target.write_text(render(student_version(source)), encoding="utf-8")
            written.append(target)
    return written


def leaks(source: Any, student: Any) -> list[str]:
    """Lines found only inside the source's solution or hidden regions that appear in the student notebook."""
    inside: set[str] = set()
    outside: set[str] = set(CODE_STUB) | {TEXT_STUB}
    for cell in source.cells:
        text = _source(cell)
        inside |= {line.strip() for line in region_lines(text)}
        outside |= {line.strip() for line in strip(text, code=cell.cell_type == "code").split("\n")}
    secret = inside - outside - {""}
    shown = {line.strip() for cell in student.cells for line in _source(cell).split("\n")}
    return sorted(secret & shown)


def _outputs(notebook: Any) -> int:
    return sum(bool(c.get("outputs")) or c.get("execution_count") is not None for c in notebook.cells)


def problems(sources: Path | None = None, out: Path | None = None) -> list[str]:
    """What is wrong with the committed student notebooks: missing, stale, extra, leaking, or with outputs."""
    return [found for folder, into in _pairs(sources, out) for found in _problems(folder, into)]


def _problems(sources: Path, out: Path) -> list[str]:
    found = []
    expected = {p.name for p in sources.glob("*.ipynb")}
    for name in sorted({p.name for p in out.glob("*.ipynb")} - expected):
        found.append(f"{out / name}: a student notebook with no source in {sources}")
    for path in sorted(sources.glob("*.ipynb")):
        source = nbformat.read(path, as_version=4)
        target = out / path.name
        if _outputs(source):
            found.append(f"{path}: has stored outputs (clear them before committing)")
        if stamp(source, path):
            found.append(f"{path}: a graded cell's nbgrader metadata disagrees with its tags (run `student`)")
        try:
            fresh = render(student_version(source))
        except MarkerError as exc:
            found.append(f"{path}: {exc}")
            continue
        if not target.exists():
            found.append(f"{target}: missing (run `python -m agentlab.grading student`)")
            continue
        if target.read_text(encoding="utf-8") != fresh:
            found.append(f"{target}: stale, differs from its source (run `python -m agentlab.grading student`)")
        leaked = leaks(source, nbformat.read(target, as_version=4))
        found += [f"{target}: leaks solution text: {line!r}" for line in leaked]
    return found
