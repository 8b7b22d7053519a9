"""Plans: the supervisor's sub-task DAG, with a role per sub-task and ready/running/done states (lab 03).

A plan is what the planning step (one model step) decided: sub-tasks, each with a role (researcher,
coder, analyst, critic), a goal and the sub-tasks it depends on. It is a networkx DiGraph, so the
labs can draw it and `agentlab.analysis` can find its critical path. States move

    pending ──(all deps done)──▶ ready ──▶ running ──▶ done | failed | timeout
                                                         (a timed-out sub-task is re-planned fresh)

and a sub-task whose dependency failed for good is `blocked`. `Plan.from_spec` validates what a model
proposed — unknown roles, missing dependencies, cycles and duplicate ids are clear errors, not crashes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from agentlab.errors import InvalidArguments
from agentlab.steps import FINISHED, SubTask, SubTaskState

__all__ = ["ROLES", "Plan", "SubTask"]

ROLES = ("researcher", "coder", "analyst", "critic")


class Plan:
    """A DAG of sub-tasks plus each one's state."""

    def __init__(self, subtasks: Iterable[SubTask], earlier: Iterable[str] = ()) -> None:
        """`earlier`: ids finished in earlier rounds, which a sub-task may depend on (their findings exist)."""
        self.earlier = frozenset(earlier)
        self.graph: nx.DiGraph = nx.DiGraph()
        self._order: list[str] | None = None  # the topological order, kept until the graph changes
        for task in subtasks:
            if task.id in self.graph:
                raise InvalidArguments(f"the plan has two sub-tasks with id {task.id!r}")
            self.graph.add_node(task.id, task=task, state="pending")
        for task in (self.task(n) for n in self.graph):
            for dep in task.deps:
                if dep in self.graph:
                    self.graph.add_edge(dep, task.id)
                elif dep not in self.earlier:
                    raise InvalidArguments(f"sub-task {task.id!r} depends on {dep!r}, which is not in the plan")
        if not nx.is_directed_acyclic_graph(self.graph):
            cycle = " -> ".join(str(a) for a, _ in nx.find_cycle(self.graph))
            raise InvalidArguments(f"the plan has a dependency cycle: {cycle}")

    @classmethod
    def from_spec(
        cls, spec: Any, earlier: Iterable[str] = (), round_no: int = 1, origins: Mapping[str, str] | None = None
    ) -> Plan:
        """Build a plan from a model's `make_plan` (or `replan`) arguments:
        {"subtasks": [{id, goal, role, deps, replaces}, ...]}.

        `origins` maps earlier sub-task ids to the planned sub-task each stands for, so a sub-task that
        `replaces` one of them stands for the same planned sub-task, whatever id the model gave it."""
        origins = origins or {}
        items = spec.get("subtasks") if isinstance(spec, Mapping) else None
        if not isinstance(items, list) or not items:
            raise InvalidArguments("a plan needs a non-empty list 'subtasks'")
        tasks = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or not str(item.get("goal", "")).strip():
                raise InvalidArguments(f"sub-task #{i} needs a 'goal'")
            role = str(item.get("role", "researcher"))
            if role not in ROLES:
                raise InvalidArguments(f"sub-task #{i} has unknown role {role!r}; roles: {', '.join(ROLES)}")
            deps = item.get("deps") or []
            if not isinstance(deps, list):
                raise InvalidArguments(f"sub-task #{i}: 'deps' must be a list of ids")
            task_id = str(item.get("id") or f"t{i}")
            replaces = str(item["replaces"]) if item.get("replaces") else None
            origin = origins.get(replaces, replaces) if replaces else task_id
            tasks.append(
                SubTask(task_id, str(item["goal"]), role, tuple(map(str, deps)), round_no, 0, replaces, origin)
            )
        return cls(tasks, earlier)

    def order(self) -> list[str]:
        """Sub-task ids in plan order (dependencies first); sorted once, again only after a re-plan."""
        if self._order is None:
            self._order = list(nx.topological_sort(self.graph))
        return self._order

    @property
    def tasks(self) -> list[SubTask]:
        return [self.task(n) for n in self.order()]

    def task(self, task_id: str) -> SubTask:
        task: SubTask = self.graph.nodes[task_id]["task"]
        return task

    def state(self, task_id: str) -> SubTaskState:
        state: SubTaskState = self.graph.nodes[task_id]["state"]
        return state

    def states(self) -> dict[str, SubTaskState]:
        return {n: self.state(n) for n in self.order()}

    def mark(self, task_id: str, state: SubTaskState) -> None:
        self.graph.nodes[task_id]["state"] = state

    def is_ready(self, task_id: str) -> bool:
        """Pending, with every dependency done."""
        return self.state(task_id) == "pending" and all(self.state(d) == "done" for d in self.deps_of(task_id))

    def ready(self) -> list[SubTask]:
        """Pending sub-tasks whose dependencies are all done, in plan order (a question: nothing changes)."""
        return [task for task in self.tasks if self.is_ready(task.id)]

    def dependents(self, task_id: str) -> list[SubTask]:
        """The sub-tasks that wait for this one, and are ready now that it is done."""
        return [self.task(n) for n in self.graph.successors(task_id) if self.is_ready(n)]

    def deps_of(self, task_id: str) -> list[str]:
        """Dependencies inside this plan (the ones readiness waits for)."""
        return list(self.graph.predecessors(task_id))

    def inputs_of(self, task_id: str) -> list[str]:
        """Whose findings the sub-task reads: its dependencies here and in earlier rounds."""
        deps = self.task(task_id).deps
        if not deps:
            return []
        return self.deps_of(task_id) + [d for d in deps if d not in self.graph]

    def replace_with_fresh(self, task_id: str) -> SubTask:
        """Re-plan a timed-out sub-task as a fresh one: dependents now wait for the new id."""
        old = self.task(task_id)
        new = old.fresh()
        self._order = None
        self.graph.add_node(new.id, task=new, state="pending")
        for dep in self.deps_of(task_id):
            self.graph.add_edge(dep, new.id)
        for child in list(self.graph.successors(task_id)):
            self.graph.remove_edge(task_id, child)
            self.graph.add_edge(new.id, child)
        return new

    def block_dependents(self, task_id: str) -> list[str]:
        """Mark everything downstream of a sub-task that failed for good as blocked."""
        blocked = [n for n in nx.descendants(self.graph, task_id) if self.state(n) not in FINISHED]
        for n in blocked:
            self.mark(n, "blocked")
        return blocked

    def finished(self) -> bool:
        return all(self.state(n) in FINISHED for n in self.graph)

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(t.id)}</td><td>{t.role}</td><td>{html.escape(', '.join(t.deps) or '—')}</td>"
            f"<td>{self.state(t.id)}</td><td>{html.escape(t.goal)}</td></tr>"
            for t in self.tasks
        )
        return f"<table><tr><th>id</th><th>role</th><th>after</th><th>state</th><th>goal</th></tr>{rows}</table>"

    def describe(self) -> str:
        """The plan as plain text, one sub-task per line (the CLI prints this)."""
        return "\n".join(f"  {t.id:<6} {t.role:<10} after {', '.join(t.deps) or '-':<12} {t.goal}" for t in self.tasks)
