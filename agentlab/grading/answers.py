"""Finding a learner's answers in a notebook by tag, never by position (a mangled notebook is expected).

A class of learners deletes cells, copies them (a copy keeps its tags), turns code into markdown and
reorders things. Each of those becomes a clear reason for that part alone, never a crash:

    missing      no cell carries the part's tag            "not found (deleted, or its tag removed?)"
    duplicated   several cells carry it                     "2 cells are tagged ...: keep one"
    wrong type   the tagged cell is markdown or raw now      "is a markdown cell: make it a code cell"

The grader runs plain Python, not a kernel, so IPython's own syntax is turned into Python first
(`plain_python`):

    %time STATEMENT, %timeit [-n N ...] STATEMENT, %prun STATEMENT    the statement runs, once
    %%time, %%timeit, %%capture, %%prun as the cell's first line        the rest of the cell runs, once
    any other cell magic (%%bash, %%writefile ...)                      the whole cell is skipped
    any other line magic or shell escape (%matplotlib, !pip ...)        does nothing (`pass`)
    NAME = %magic ... / NAME = !command                                  NAME = None

`display`, `get_ipython`, `HTML`, `Markdown` and IPython's other common display names are defined
(they show nothing), so an answer cell that ends with `display(...)` runs as it does in a notebook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agentlab.grading.exercises import SETUP, Exercise

__all__ = ["Located", "locate", "plain_python", "tags_of"]


@dataclass(frozen=True)
class Located:
    """What the grader will run: the setup cells, then each answerable part's cell, in notebook order."""

    setup: list[str]
    answers: list[tuple[str, str]]
    """(part, source) in notebook order, for parts with exactly one code cell."""
    problems: dict[str, str] = field(default_factory=dict)
    """part → why it cannot be graded."""


def tags_of(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


_RUN_ONCE = ("time", "timeit", "prun")
_CELL_RUN_ONCE = ("time", "timeit", "capture", "prun")
_ASSIGNED = re.compile(r"^(\s*[\w.,\s\[\]]+?=\s*)[%!]")


def _line(line: str) -> str:
    """One line of IPython syntax as Python, indented as it was."""
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    if body.startswith("%") and not body.startswith("%%"):
        name, _, rest = body[1:].partition(" ")
        if name in _RUN_ONCE:
            words = rest.split()
            while words and words[0].startswith("-"):  # timeit's -n 1 -r 1: options and their values
                words = words[2:] if words[0] in ("-n", "-r") else words[1:]
            statement = " ".join(words)
            return f"{indent}{statement}" if statement else f"{indent}pass"
        return f"{indent}pass  # (magic skipped) {body}"
    if body.startswith("!"):
        return f"{indent}pass  # (shell escape skipped) {body}"
    if assigned := _ASSIGNED.match(line):
        return f"{assigned.group(1)}None  # (magic skipped) {line[assigned.end() - 1 :]}"
    return line


def plain_python(source: str) -> str:
    """IPython's magics and shell escapes as plain Python, as the module docstring says."""
    lines = source.split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].strip()[2:].split(" ")[0]
        if name not in _CELL_RUN_ONCE:
            return "\n".join(f"# (cell magic skipped) {ln}" for ln in lines)
        lines[first] = f"# (cell magic) {lines[first]}"
        return "\n".join(lines[: first + 1] + [_line(ln) for ln in lines[first + 1 :]])
    return "\n".join(_line(ln) for ln in lines)


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def locate(cells: list[Any], exercise: Exercise) -> Located:
    """The setup and answer cells of `exercise` among `cells`, with a reason for every part that is missing."""
    setup = [plain_python(_source(c)) for c in cells if SETUP in tags_of(c) and c.get("cell_type") == "code"]
    found: dict[str, list[tuple[int, Any]]] = {part: [] for part in exercise.parts}
    for index, cell in enumerate(cells):
        for part in exercise.parts:
            if exercise.tag(part) in tags_of(cell):
                found[part].append((index, cell))
    answers: list[tuple[int, str, str]] = []
    problems: dict[str, str] = {}
    for part, hits in found.items():
        tag = exercise.tag(part)
        if not hits:
            problems[part] = f"no cell is tagged {tag} (the answer cell was deleted, or its tag removed)"
        elif len(hits) > 1:
            problems[part] = (
                f"{len(hits)} cells are tagged {tag} (a copied cell keeps its tags): "
                "remove the tag from all but one, so the grader knows which answer is yours"
            )
        elif hits[0][1].get("cell_type") != "code":
            problems[part] = f"the cell tagged {tag} is a {hits[0][1].get('cell_type')} cell now: make it a code cell"
        else:
            answers.append((hits[0][0], part, plain_python(_source(hits[0][1]))))
    return Located(setup, [(part, source) for _, part, source in sorted(answers)], problems)
