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
from dataclasses import replace
from typing import Any

import networkx as nx

from agentlab.errors import InvalidArguments, UsageError
from agentlab.steps import FINISHED, SubTask, SubTaskState

__all__ = ["ROLES", "Plan", "SubTask"]

ROLES = ("researcher", "coder", "analyst", "critic")


class Plan:
    """A DAG of sub-tasks plus each one's state.

    The structure lives in plain dicts (a round of 100,000 sub-tasks reads and marks them at every event);
    `graph` gives the same DAG as a networkx DiGraph, for drawing it and for `agentlab.analysis`."""

    def __init__(self, subtasks: Iterable[SubTask], earlier: Iterable[str] = ()) -> None:
        """`earlier`: ids finished in earlier rounds, which a sub-task may depend on (their findings exist)."""
        self.earlier = frozenset(earlier)
        self._tasks: dict[str, SubTask] = {}
        self._states: dict[str, SubTaskState] = {}
        self._parents: dict[str, dict[str, None]] = {}  # in-plan dependencies, as ordered sets
        self._children: dict[str, dict[str, None]] = {}
        self._order: list[str] | None = None  # the topological order, kept until the DAG changes
        self._graph: nx.DiGraph | None = None
        for task in subtasks:
            if task.id in self._tasks:
                raise InvalidArguments(f"the plan has two sub-tasks with id {task.id!r}")
            self._add(task)
        for task in self._tasks.values():
            for dep in task.deps:
                if dep in self._tasks:
                    self._link(dep, task.id)
                elif dep not in self.earlier:
                    raise InvalidArguments(f"sub-task {task.id!r} depends on {dep!r}, which is not in the plan")
        self.order()  # finds a cycle, if there is one

    def _add(self, task: SubTask) -> None:
        self._tasks[task.id] = task
        self._states[task.id] = "pending"
        self._parents[task.id] = {}
        self._children[task.id] = {}

    def _link(self, parent: str, child: str) -> None:
        self._parents[child][parent] = None
        self._children[parent][child] = None

    @property
    def graph(self) -> nx.DiGraph:
        """The plan as a networkx DiGraph (each node carries its `task`), built when first asked for."""
        if self._graph is None:
            graph = nx.DiGraph()
            graph.add_nodes_from((n, {"task": t}) for n, t in self._tasks.items())
            graph.add_edges_from((p, c) for c, parents in self._parents.items() for p in parents)
            self._graph = graph
        return self._graph

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
        """Sub-task ids in plan order, generation by generation (dependencies first, then the order they
        were planned in); sorted once, again only after a re-plan."""
        if self._order is None:
            waiting = {n: len(p) for n, p in self._parents.items() if p}
            generation = [n for n, p in self._parents.items() if not p]
            order: list[str] = []
            while generation:
                order += generation
                following = []
                for node in generation:
                    for child in self._children[node]:
                        waiting[child] -= 1
                        if waiting[child] == 0:
                            following.append(child)
                            del waiting[child]
                generation = following
            if waiting:
                cycle = " -> ".join(str(a) for a, _ in nx.find_cycle(self.graph))
                raise InvalidArguments(f"the plan has a dependency cycle: {cycle}")
            self._order = order
        return self._order

    @property
    def tasks(self) -> list[SubTask]:
        tasks = self._tasks
        return [tasks[n] for n in self.order()]

    def task(self, task_id: str) -> SubTask:
        return self._tasks[task_id]

    def state(self, task_id: str) -> SubTaskState:
        return self._states[task_id]

    def states(self) -> dict[str, SubTaskState]:
        states = self._states
        return {n: states[n] for n in self.order()}

    def mark(self, task_id: str, state: SubTaskState) -> None:
        if task_id not in self._states:
            raise UsageError(f"no sub-task {task_id!r} in this plan")
        self._states[task_id] = state

    def is_ready(self, task_id: str) -> bool:
        """Pending, with every dependency done."""
        states = self._states
        return states[task_id] == "pending" and all(states[d] == "done" for d in self._parents[task_id])

    def ready(self) -> list[SubTask]:
        """Pending sub-tasks whose dependencies are all done, in plan order (a question: nothing changes)."""
        return [self._tasks[n] for n in self.order() if self.is_ready(n)]

    def dependents(self, task_id: str) -> list[SubTask]:
        """The sub-tasks that wait for this one, and are ready now that it is done."""
        return [self._tasks[n] for n in self._children[task_id] if self.is_ready(n)]

    def deps_of(self, task_id: str) -> list[str]:
        """Dependencies inside this plan (the ones readiness waits for)."""
        return list(self._parents[task_id])

    def inputs_of(self, task_id: str) -> list[str]:
        """Whose findings the sub-task reads: its dependencies here and in earlier rounds."""
        deps = self._tasks[task_id].deps
        if not deps:
            return []
        return self.deps_of(task_id) + [d for d in deps if d not in self._tasks]

    def replace_with_fresh(self, task_id: str) -> SubTask:
        """Re-plan a timed-out sub-task as a fresh one: dependents now wait for the new id."""
        new = self._tasks[task_id].fresh()
        while new.id in self._tasks:  # a model may already have named a sub-task like a fresh attempt
            new = replace(new, id=f"{new.id}~")
        self._order, self._graph = None, None
        self._add(new)
        for dep in self._parents[task_id]:
            self._link(dep, new.id)
        for child in list(self._children[task_id]):
            del self._parents[child][task_id]
            self._link(new.id, child)
        self._children[task_id].clear()
        return new

    def block_dependents(self, task_id: str) -> list[str]:
        """Mark everything downstream of a sub-task that failed for good as blocked."""
        seen: dict[str, None] = {}
        frontier = list(self._children[task_id])
        while frontier:
            node = frontier.pop()
            if node not in seen:
                seen[node] = None
                frontier.extend(self._children[node])
        blocked = [n for n in seen if self._states[n] not in FINISHED]
        for n in blocked:
            self._states[n] = "blocked"
        return blocked

    def finished(self) -> bool:
        return all(state in FINISHED for state in self._states.values())

    def __len__(self) -> int:
        return len(self._tasks)

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
