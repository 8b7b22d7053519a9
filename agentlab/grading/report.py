"""Scores: points per part with the first failing reason, per exercise, as text and as CSV rows."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentlab.grading.exercises import Exercise
from agentlab.grading.runner import Outcome

__all__ = ["Grade", "PartScore", "score", "write_csv"]

CSV_COLUMNS = ("notebook", "exercise", "part", "points", "max_points", "message")


@dataclass(frozen=True)
class PartScore:
    """One answer part: points earned of the points its checks carry, and the first failure's reason."""

    part: str
    points: float
    max_points: float
    message: str = ""


@dataclass(frozen=True)
class Grade:
    """One notebook graded: a score per part, or a notebook-level error."""

    notebook: str
    exercise: str
    title: str
    parts: tuple[PartScore, ...] = ()
    error: str = ""
    """Why the notebook could not be graded at all (empty when it was)."""
    hidden: bool = False
    """Whether the instructor's hidden checks ran."""
    notes: tuple[str, ...] = field(default=())

    @property
    def points(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def max_points(self) -> float:
        return sum(p.max_points for p in self.parts)

    def text(self) -> str:
        """The report a learner reads."""
        lines = [f"{self.exercise} · {self.title}: {_num(self.points)}/{_num(self.max_points)} points"]
        if self.error:
            lines.append(f"  {self.error}")
        width = max((len(p.part) for p in self.parts), default=0)
        for part in self.parts:
            mark = "pass" if part.points == part.max_points else "FAIL"
            score = f"{_num(part.points)}/{_num(part.max_points)}"
            lines.append(f"  {mark}  {part.part:<{width}}  {score:>5}  {part.message}".rstrip())
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def rows(self) -> list[dict[str, Any]]:
        """CSV rows, one per part (one row with the error when the notebook could not be graded)."""
        base = {"notebook": self.notebook, "exercise": self.exercise}
        if not self.parts:
            return [{**base, "part": "", "points": 0, "max_points": 0, "message": self.error}]
        return [
            {**base, "part": p.part, "points": _num(p.points), "max_points": _num(p.max_points), "message": p.message}
            for p in self.parts
        ]

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())  # how IPython shows check("ex1") as a cell's result


def _num(value: float) -> str:
    return f"{value:g}"


def score(exercise: Exercise, outcomes: Sequence[Outcome], broken: Mapping[str, str] | None = None) -> list[PartScore]:
    """Each part's points from the outcomes of its checks; its message is its first failure's reason."""
    parts = []
    for part in exercise.parts:
        mine = [o for o in outcomes if o.part == part]
        failures = [o.message for o in mine if not o.passed]
        first = failures[0] if failures else (broken or {}).get(part, "")
        parts.append(PartScore(part, sum(o.points for o in mine if o.passed), sum(o.points for o in mine), first))
    return parts


def write_csv(grades: Iterable[Grade], path: Path) -> None:
    """One row per notebook and part: notebook, exercise, part, points, max_points, message."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for grade in grades:
            writer.writerows(grade.rows())
