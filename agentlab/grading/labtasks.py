"""The numbered labs' checked tasks: per lab, the task that ends each section, graded like the exercises.

Each lab's tasks are one `LabTasks`: its notebook (labs/source/NN_name.ipynb is the instructor's,
labs/NN_name.ipynb the generated student form) and one `Task` per checked cell. A task's answer cell is
tagged `answer:labNN.<part>` and defines exactly the task's names; its check cell, tagged
`check:labNN.<part>`, runs `check("labNN.<part>")`; its checks are the `@graded("<part>")` functions in
`agentlab/grading/checks/test_labNN*.py`. `agentlab.grading.exercises.EXERCISES` holds these beside the
§40.6 exercises, so `check`, the grader and nbgrader treat a lab like an exercise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["LAB_TASKS", "SIM_LIMIT", "LabTasks", "Task"]

SIM_LIMIT = 60.0
"""Seconds a simulator-graded task's check may take: the learner's component attacked on 200 seeds
(`agentlab.sim.passk`), measured at 1-10 s on two loaded cores."""


@dataclass(frozen=True)
class Task:
    """One checked task: the names its answer cell defines, its points, and a longer limit if it needs one."""

    names: tuple[str, ...]
    points: float = 1.0
    limit: float | None = None
    """Seconds each of its checks may take (a simulator-graded component runs many seeds); None: the default."""


@dataclass(frozen=True)
class LabTasks:
    """One lab's checked tasks, in the order the lab asks them."""

    title: str
    notebook: str
    tasks: Mapping[str, Task] = field(default_factory=dict)


LAB_TASKS: dict[str, LabTasks] = {
    "lab01": LabTasks(
        "The agent loop",
        "01_agent_loop",
        {
            "turns": Task(("mean_turns", "finish_within")),
        },
    ),
    "lab02": LabTasks(
        "Tools as RPC",
        "02_tools_as_rpc",
        {
            "payment": Task(("payment_key",), 3.0, limit=SIM_LIMIT),
        },
    ),
    "lab04": LabTasks(
        "Durability",
        "04_durability",
        {
            "key": Task(("step_key",), 3.0, limit=SIM_LIMIT),
        },
    ),
    "lab05": LabTasks(
        "Shared memory",
        "05_shared_memory",
        {
            "increment": Task(("increment_step",), 3.0, limit=SIM_LIMIT),
        },
    ),
    "lab07": LabTasks(
        "Break it",
        "07_break_it",
        {
            "seeds": Task(("seeds_needed",)),
            "checker": Task(("counter_exact",), 2.0, limit=SIM_LIMIT),
        },
    ),
}
