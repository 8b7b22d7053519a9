"""Solution and hidden-test regions: nbgrader's markers, found and replaced (the exercises' single source).

An instructor writes each exercise notebook once, with its answers and instructor-only tests in place:

    ### BEGIN SOLUTION          the answer; the student notebook gets a stub in its place
    ### END SOLUTION
    ### BEGIN HIDDEN TESTS      tests only instructor grading runs; removed from the student notebook
    ### END HIDDEN TESTS

As in nbgrader, a marker is any line that contains the phrase (so `# BEGIN SOLUTION` works too), a code
stub is indented like the marker it replaces, a markdown stub is "YOUR ANSWER HERE", and nested,
unmatched or unterminated regions are errors. Left out: nbgrader's AUTOTEST and mark-scheme markup.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODE_STUB", "TEXT_STUB", "MarkerError", "Region", "hidden_tests", "region_lines", "regions", "strip"]

CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"
_MARKERS = {
    "BEGIN SOLUTION": ("solution", True),
    "END SOLUTION": ("solution", False),
    "BEGIN HIDDEN TESTS": ("hidden", True),
    "END HIDDEN TESTS": ("hidden", False),
}


class MarkerError(ValueError):
    """The markers in a cell do not pair up: nested, unmatched or unterminated."""


@dataclass(frozen=True)
class Region:
    """One marked region: its kind ("solution" or "hidden"), its marker lines, and the marker's indent."""

    kind: str
    begin: int
    """Index of the BEGIN line."""
    end: int
    """Index of the END line."""
    indent: str


def _marker(line: str) -> tuple[str, bool] | None:
    found = [meaning for phrase, meaning in _MARKERS.items() if phrase in line]
    return found[0] if found else None


def regions(source: str) -> list[Region]:
    """The marked regions of a cell's source, in order; `MarkerError` if they do not pair up."""
    found: list[Region] = []
    open_at: tuple[str, int, str] | None = None
    lines = source.split("\n")
    for number, line in enumerate(lines):
        marker = _marker(line)
        if marker is None:
            continue
        kind, begins = marker
        if begins and open_at is not None:
            raise MarkerError(
                f"line {number + 1}: a {kind} region begins inside the {open_at[0]} region of line "
                f"{open_at[1] + 1} (regions cannot nest)"
            )
        if begins:
            open_at = (kind, number, line[: len(line) - len(line.lstrip())])
        elif open_at is None or open_at[0] != kind:
            raise MarkerError(f"line {number + 1}: END of a {kind} region that never began")
        else:
            found.append(Region(kind, open_at[1], number, open_at[2]))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"line {open_at[1] + 1}: the {open_at[0]} region has no END marker")
    return found


def strip(source: str, *, code: bool) -> str:
    """The student's version of a cell: each solution region becomes a stub, each hidden region vanishes."""
    found = regions(source)
    if not found:
        return source
    lines = source.split("\n")
    for region in reversed(found):  # from the bottom up, so earlier line numbers stay valid
        if region.kind == "hidden":
            stub: list[str] = []
        elif code:
            stub = [region.indent + line for line in CODE_STUB]
        else:
            stub = [TEXT_STUB]
        lines[region.begin : region.end + 1] = stub
    return "\n".join(lines).strip("\n") if code else "\n".join(lines)


def region_lines(source: str, kind: str | None = None) -> list[str]:
    """The lines strictly inside the regions of `kind` (any kind when None)."""
    lines = source.split("\n")
    return [
        line
        for region in regions(source)
        if kind in (None, region.kind)
        for line in lines[region.begin + 1 : region.end]
    ]


def hidden_tests(source: str) -> str:
    """The text of a cell's hidden-test regions, as one Python module (regions joined by a blank line)."""
    lines = source.split("\n")
    bodies = ["\n".join(lines[r.begin + 1 : r.end]) for r in regions(source) if r.kind == "hidden"]
    return "\n\n".join(bodies).strip("\n") + "\n" if bodies else ""
