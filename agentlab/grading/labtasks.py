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
            "loop": Task(("trace_events",)),
            "convo": Task(("turns_in",)),
            "trace": Task(("model_share",)),
            "turns": Task(("mean_turns", "finish_within")),
            "latency": Task(("expected_latency",)),
            "budget": Task(("budget_for",)),
            "malformed": Task(("diagnose",)),
        },
    ),
    "lab02": LabTasks(
        "Tools as RPC",
        "02_tools_as_rpc",
        {
            "schema": Task(("REFUSED",)),
            "timeout": Task(("pick_timeout",)),
            "retry": Task(("worst_case_wait",)),
            "key": Task(("call_key",)),
            "breaker": Task(("breaker_walk",)),
            "ratelimit": Task(("min_duration",)),
            "fallback": Task(("cached_answer",)),
            "sandbox": Task(("stopped_after",)),
            "approved": Task(("APPROVED",)),
            "shards": Task(("shards_for",)),
            "payment": Task(("payment_key",), 3.0, limit=SIM_LIMIT),
        },
    ),
    "lab03": LabTasks(
        "The supervisor fan-out",
        "03_supervisor_fanout",
        {
            "ready": Task(("ready",)),
            "imbalance": Task(("idle_share",)),
            "critical_path": Task(("critical_path_length",)),
            "workers": Task(("plan_speedup",)),
            "ceiling": Task(("plan_ceiling",)),
            "hedge": Task(("hedged_round",)),
            "lanes": Task(("ideal_wall",)),
            "retry": Task(("retry_calls", "restart_calls")),
            "goals": Task(("ideal_speedup",)),
        },
    ),
    "lab04": LabTasks(
        "Durability",
        "04_durability",
        {
            "payment": Task(("payment_key",)),
            "lost": Task(("lost_work",)),
            "ledger": Task(("ledger",)),
            "positions": Task(("position_log_right",)),
            "key": Task(("step_key",), 3.0, limit=SIM_LIMIT),
        },
    ),
    "lab05": LabTasks(
        "Shared memory",
        "05_shared_memory",
        {
            "lease": Task(("longest_wait",)),
            "naive": Task(("naive_final",)),
            "replay": Task(("rebuild",)),
            "fence": Task(("fenced",)),
            "view": Task(("plan_view",)),
            "admit": Task(("completion_cap",)),
            "fuse": Task(("fuse",)),
            "increment": Task(("increment_step",), 3.0, limit=SIM_LIMIT),
        },
    ),
    "lab06": LabTasks(
        "Protocols",
        "06_protocols",
        {
            "schema": Task(("input_schema",)),
            "contract": Task(("contract_of",)),
            "sessions": Task(("servers_started",)),
            "approval": Task(("gate",)),
            "jsonrpc": Task(("tools_call",)),
            "states": Task(("legal_life",)),
            "deadline": Task(("delegation_outcome",)),
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
