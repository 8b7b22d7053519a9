"""The graded exercises of §40.6: which notebook, which answer cells, which names each must define.

Every notebook follows the same conventions (labs/README.md):

    tag `parameters`            the first code cell: reads AGENTLAB_FAST (fast mode shrinks work, skips nothing)
    tag `setup`                 imports and data the answers may use; the grader runs it before the answers
    tag `answer:ex2.timeout`    an answer cell, graded automatically; it defines the names listed below
    tag `written:ex2.explain`   a written (markdown) answer, read by a person, not scored here
    tag `uses-answers`          a given cell that reads your answers (it raises until you have answered)
    tag `check:ex2`             the cell that calls check("ex2")

The grader finds answers by these tags, never by position, and runs only the setup and answer cells.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentlab.grading.labtasks import LAB_TASKS

__all__ = ["EXERCISES", "FOLDERS", "Exercise", "checks_dir", "exercise_of", "labs_dir"]

ANSWER = "answer:"
WRITTEN = "written:"
CHECK = "check:"
SETUP = "setup"
USES_ANSWERS = "uses-answers"


@dataclass(frozen=True)
class Exercise:
    """One exercise: its notebook and its automatically graded parts."""

    id: str
    title: str
    notebook: str
    """The notebook's file name without `.ipynb`, the same for the instructor and the student version."""
    parts: Mapping[str, tuple[str, ...]]
    """Each part's name (its answer cell is tagged `answer:<id>.<part>`) and the names that cell defines."""
    points: Mapping[str, float]
    """Each part's points, earned only when every check of the part passes (hidden checks included)."""
    folder: str = "exercises"
    """Where the student notebook lives, under labs/ ("" for the numbered labs); its source is in folder/source."""
    limits: Mapping[str, float] = field(default_factory=dict)
    """Seconds a check of this part (and each call it makes into the answers) may take, where not the default."""

    def tag(self, part: str) -> str:
        return f"{ANSWER}{self.id}.{part}"

    def part_of(self, name: str) -> str | None:
        """The part whose answer cell defines `name`."""
        return next((part for part, names in self.parts.items() if name in names), None)

    @property
    def max_points(self) -> float:
        return sum(self.points.values())

    def limit_of(self, part: str | None, default: float | None) -> float | None:
        """The time limit of `part`'s checks: its own, or `default`."""
        return self.limits.get(part, default) if part is not None and default is not None else default

    @property
    def check_files(self) -> list[Path]:
        """Its check modules: `test_<id>.py` and any `test_<id>_*.py` beside it."""
        folder = checks_dir()
        return sorted({folder / f"test_{self.id}.py", *folder.glob(f"test_{self.id}_*.py")} & set(folder.iterdir()))

    @property
    def student_path(self) -> Path:
        """The notebook learners open (generated)."""
        return labs_dir() / self.folder / f"{self.notebook}.ipynb"

    @property
    def source_path(self) -> Path:
        """The instructor notebook: solutions and hidden checks."""
        return labs_dir() / self.folder / "source" / f"{self.notebook}.ipynb"


EXERCISES: dict[str, Exercise] = {
    "ex1": Exercise(
        "ex1",
        "Sequential spine or parallel fan-out?",
        "ex1_spine_or_fanout",
        {
            "classify": ("CLASSIFICATION",),
            "p_estimates": ("P_ESTIMATES",),
            "ceiling": ("speedup_ceiling", "MOST_PARALLEL", "CEILING", "FINITE_BECAUSE"),
            "fitted": ("fitted_p",),
        },
        {"classify": 3, "p_estimates": 3, "ceiling": 4, "fitted": 3},
    ),
    "ex2": Exercise(
        "ex2",
        "Add a straggler and a retry",
        "ex2_straggler_and_retry",
        {
            "critical_path": ("parallel_critical_path",),
            "timeout": ("worst_case_path",),
            "engine": ("ENGINE_FEATURES",),
        },
        {"critical_path": 4, "timeout": 4, "engine": 3},
    ),
    "ex3": Exercise(
        "ex3",
        "Cost of a round versus a fan-out",
        "ex3_round_or_fanout",
        {
            "expected_times": ("expected_sequential_time", "expected_fanout_time"),
            "condition": ("fanout_beats_sequential", "break_even_overhead"),
            "regime": ("KEEP_SEQUENTIAL",),
        },
        {"expected_times": 3, "condition": 4, "regime": 3},
    ),
}

EXERCISES |= {
    lab_id: Exercise(
        lab_id,
        lab.title,
        lab.notebook,
        {part: task.names for part, task in lab.tasks.items()},
        {part: task.points for part, task in lab.tasks.items()},
        folder="",
        limits={part: task.limit for part, task in lab.tasks.items() if task.limit is not None},
    )
    for lab_id, lab in LAB_TASKS.items()
}
FOLDERS = ("exercises", "")
"""Where student notebooks live under labs/ (each with its instructor sources in `source/`)."""


def checks_dir() -> Path:
    """The folder of the pytest check modules (`test_ex1.py`, ...)."""
    return Path(__file__).resolve().parent / "checks"


def labs_dir() -> Path:
    """The labs folder: $AGENTLAB_LABS, else the repository's `labs/` next to the package, else ./labs."""
    if os.environ.get("AGENTLAB_LABS"):
        return Path(os.environ["AGENTLAB_LABS"])
    beside = Path(__file__).resolve().parents[2] / "labs"
    return beside if beside.is_dir() else Path.cwd() / "labs"


def exercise_of(path: Path, metadata: Mapping[str, Any] | None = None) -> Exercise | None:
    """Which exercise a notebook holds: its `agentlab.exercise` metadata, else an `exN` in its file name,
    else the lab its name starts with (`02_tools_as_rpc.ipynb` holds lab02's tasks)."""
    named = (metadata or {}).get("agentlab", {}).get("exercise") if isinstance(metadata, Mapping) else None
    if isinstance(named, str) and named in EXERCISES:
        return EXERCISES[named]
    found = re.search(r"(?<![a-z0-9])(ex\d+)", path.stem.lower())
    if found:
        return EXERCISES.get(found.group(1))
    lab = re.match(r"(\d\d)_", path.stem)
    return EXERCISES.get(f"lab{lab.group(1)}") if lab else None
