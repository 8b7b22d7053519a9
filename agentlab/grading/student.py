"""Student notebooks, generated from the instructor's: the answers become stubs, the hidden checks vanish.

    labs/exercises/source/ex2_straggler_and_retry.ipynb    the single source: solutions and hidden checks
    labs/exercises/ex2_straggler_and_retry.ipynb           generated, committed, what learners open

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
from agentlab.grading.exercises import ANSWER, CHECK, USES_ANSWERS, labs_dir
from agentlab.grading.markers import CODE_STUB, TEXT_STUB, MarkerError, region_lines, strip

__all__ = ["generate", "leaks", "problems", "render", "student_version"]


def _default_dirs(sources: Path | None, out: Path | None) -> tuple[Path, Path]:
    exercises = labs_dir() / "exercises"
    return sources or exercises / "source", out or exercises


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
    """Write the student version of every instructor notebook in `sources` to `out`; return the paths."""
    sources, out = _default_dirs(sources, out)
    written = []
    for path in sorted(sources.glob("*.ipynb")):
        target = out / path.name
        target.write_text(render(student_version(nbformat.read(path, as_version=4))), encoding="utf-8")
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
    sources, out = _default_dirs(sources, out)
    found = []
    expected = {p.name for p in sources.glob("*.ipynb")}
    for name in sorted({p.name for p in out.glob("*.ipynb")} - expected):
        found.append(f"{out / name}: a student notebook with no source in {sources}")
    for path in sorted(sources.glob("*.ipynb")):
        source = nbformat.read(path, as_version=4)
        target = out / path.name
        if _outputs(source):
            found.append(f"{path}: has stored outputs (clear them before committing)")
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
