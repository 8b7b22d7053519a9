"""Scores: points per part with the first failing reason, per exercise, as text and as CSV rows.

A part's points come from the exercise's definition: all of them when every check of the part passed
(hidden checks included, in instructor grading), none otherwise, and none when no check of it ran.
Every message is one line of at most `MESSAGE_CHARS` characters, and any line of the instructor's
solutions or hidden checks found in it is replaced by "[solution text withheld]".
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentlab.grading.exercises import Exercise
from agentlab.grading.runner import Outcome

__all__ = ["MESSAGE_CHARS", "Grade", "PartScore", "autograding", "clean", "score", "write_csv"]

CSV_COLUMNS = ("notebook", "exercise", "part", "points", "max_points", "message")
MESSAGE_CHARS = 300
"""The longest message a report shows (cut with "…")."""
WITHHELD = "[solution text withheld]"
_SECRET_MIN = 8
"""Solution lines shorter than this (`return x`, `pass`) are too common to withhold."""


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
        # how IPython shows check("ex1") as a cell's result; nbgrader's autograde reads a number as the score
        printer.text(_num(self.points) if autograding() else self.text())


def autograding() -> bool:
    """Whether nbgrader's autograde is running this notebook (it sets NBGRADER_EXECUTION)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def _num(value: float) -> str:
    return f"{value:g}"


def clean(message: str, secrets: Iterable[str] = ()) -> str:
    """One line, solution text withheld, at most MESSAGE_CHARS characters."""
    text = " ".join(str(message).split())
    for secret in sorted((s for s in secrets if len(s) >= _SECRET_MIN), key=len, reverse=True):
        text = text.replace(secret, WITHHELD)
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def score(
    exercise: Exercise,
    outcomes: Sequence[Outcome],
    broken: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> list[PartScore]:
    """Each part's points: all if every one of its checks passed, else none; the message is the first reason."""
    secrets = [" ".join(s.split()) for s in secrets]
    parts = []
    for part, worth in exercise.points.items():
        mine = [o for o in outcomes if o.part == part]
        failures = [o.message for o in mine if not o.passed]
        why = (broken or {}).get(part, "")
        if not mine and not why:
            why = "no check of this part ran"
        first = failures[0] if failures else why
        passed = bool(mine) and not failures and not why
        parts.append(PartScore(part, worth if passed else 0.0, worth, clean(first, secrets)))
    return parts


def write_csv(grades: Iterable[Grade], path: Path) -> None:
    """One row per notebook and part: notebook, exercise, part, points, max_points, message."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for grade in grades:
            writer.writerows(grade.rows())
