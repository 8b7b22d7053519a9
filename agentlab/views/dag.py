"""A live picture of a plan's DAG: each sub-task a node, coloured by its state as the run moves (lab 03).

`LiveDag` is an observer, like `agentlab.views.widgets.LiveProgress`: pass it to
`Supervisor(..., observers=[dag])` and display it. It learns the graph from the supervisor's events —
"planned" adds a node and its edges from its dependencies, a fresh re-plan after a timeout is drawn
beside the sub-task it replaces (dashed edge) — and recolours a node on every event:

    planned → pending (grey)   dispatched → running (blue)   hedged → running, with a second ring
    done (green)   failed (red)   timeout (orange)   cancelled / blocked (dark grey)   replayed → done

The model (`states`, `history`) is plain data; the view is an SVG string in an `ipywidgets.HTML`,
re-rendered on each event, which costs microseconds (no matplotlib), so even a plan of hundreds of
sub-tasks keeps up. Past `max_nodes` sub-tasks the drawing would be unreadable and each event would
cost the whole graph, so the view shows the counts per state only (kept as events arrive): an event
then costs the same at any width. Nodes are laid out in columns: each round to the right of the last, and
inside a round by dependency depth; a column wider than `_MAX_ROWS` wraps into a block about as wide as it is
tall, so a wide plan is a square, not a column thousands of pixels high. Left out: zooming, and edges
between rounds (a later round reads earlier findings, which the supervisor passes as text, not as graph edges).
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import ipywidgets
import networkx as nx

from agentlab.events import RoundEvent
from agentlab.steps import FINISHED

__all__ = ["COLOURS", "LiveDag", "render_svg"]

COLOURS = {
    "pending": "#d9d9d9",
    "running": "#1f77b4",
    "done": "#2ca02c",
    "failed": "#d62728",
    "timeout": "#ff7f0e",
    "cancelled": "#7f7f7f",
    "blocked": "#7f7f7f",
}
"""Fill colour per state (the same palette as the progress table and the Gantt chart)."""
_STATE_OF_EVENT: dict[str, str] = {
    "planned": "pending",
    "dispatched": "running",
    "hedged": "running",
    "replayed": "done",
    **{s: s for s in FINISHED},
}
_W, _H, _DX, _DY, _PAD = 92, 34, 130, 48, 12
_MAX_ROWS = 12
"""A column of more sub-tasks than this wraps into a block of sub-columns (not a 19,000-px column of 400)."""


class _Task(Protocol):
    """What the view reads from a sub-task: its id, role and dependencies."""

    @property
    def id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def deps(self) -> Sequence[str]: ...


class LiveDag:
    """The plan's graph and each sub-task's state, drawn as SVG and updated as events arrive."""

    def __init__(self, title: str = "plan", max_nodes: int = 300) -> None:
        self.title, self.max_nodes = title, max_nodes
        self.graph: nx.DiGraph = nx.DiGraph()
        self._counts: dict[str, int] = {}
        self._round = 1  # the latest round planned
        self.history: list[tuple[float, str, str]] = []
        """(time, sub-task id, state) for every change of state, in order."""
        self._lock = threading.Lock()
        self.widget = ipywidgets.HTML(value=self.svg())

    def __call__(self, event: RoundEvent) -> None:
        task, kind = event.task, event.kind
        state = _STATE_OF_EVENT.get(kind)
        if state is None:  # "ignored": a hedge's losing copy; the sub-task itself is unchanged
            return
        with self._lock:
            if task.id not in self.graph:
                self._add(task, event)
            node = self.graph.nodes[task.id]
            node["hedged"] = node["hedged"] or kind == "hedged"
            node["replayed"] = node["replayed"] or kind == "replayed"
            if node["state"] != state:
                self._count(node["state"], -1)
                self._count(state, +1)
                node["state"] = state
                self.history.append((time.time(), task.id, state))
            self.widget.value = self.svg()

    def _count(self, state: str, change: int) -> None:
        self._counts[state] = self._counts.get(state, 0) + change

    def _add(self, task: _Task, event: RoundEvent) -> None:
        replaces, round_no = event.replaces, event.round
        if replaces is not None and replaces in self.graph:
            round_no = self.graph.nodes[replaces]["round"]
        elif not round_no:
            round_no = self._round
        self._round = max(self._round, round_no)
        self._count("pending", +1)
        self.graph.add_node(
            task.id, role=task.role, state="pending", round=round_no, hedged=False, replayed=False, replaces=replaces
        )
        self.history.append((time.time(), task.id, "pending"))
        for dep in task.deps:
            if dep in self.graph and self.graph.nodes[dep]["round"] == round_no:
                self.graph.add_edge(dep, task.id)
        if isinstance(replaces, str) and replaces in self.graph:
            # the fresh copy takes over the dependents of the sub-task it replaces
            for child in list(self.graph.successors(replaces)):
                self.graph.add_edge(task.id, child)

    def states(self) -> dict[str, str]:
        """Each sub-task's current state."""
        with self._lock:
            return {n: str(s) for n, s in self.graph.nodes(data="state")}

    def counts(self) -> dict[str, int]:
        return {s: n for s, n in sorted(self._counts.items()) if n}

    def svg(self) -> str:
        if self.graph.number_of_nodes() > self.max_nodes:
            summary = ", ".join(f"{n} {s}" for s, n in self.counts().items())
            return (
                f"<div><b>{html.escape(self.title)}</b>: {html.escape(summary)} "
                f"({self.graph.number_of_nodes()} sub-tasks: too many to draw)</div>"
            )
        return render_svg(self.graph, self.title)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _positions(graph: nx.DiGraph) -> dict[str, tuple[int, int]]:
    """(column, row) per node: rounds left to right, dependency depth within a round, replacements alongside."""
    depth: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        replaced = graph.nodes[node]["replaces"]
        if replaced in depth:
            depth[node] = depth[replaced]  # a fresh re-plan sits in its original's column
            continue
        preds = [p for p in graph.predecessors(node) if graph.nodes[p]["replaces"] is None]
        depth[node] = max((depth[p] + 1 for p in preds), default=0)
    offset, columns = 0, {}
    for round_no in sorted({r for _, r in graph.nodes(data="round")}):
        members = [n for n in depth if graph.nodes[n]["round"] == round_no]
        for n in members:
            columns[n] = offset + depth[n]
        offset = max(columns[n] for n in members) + 1
    members_of: dict[int, list[str]] = {}
    for node in graph.nodes:  # insertion order: the plan's order, re-plans after their originals
        members_of.setdefault(columns[node], []).append(node)
    placed, x = {}, 0
    for col in sorted(members_of):  # a wide column wraps into a block of sub-columns, about as wide as tall
        members = members_of[col]
        height = _rows_for(len(members))
        for i, node in enumerate(members):
            placed[node] = (x + i // height, i % height)
        x += math.ceil(len(members) / height)
    return placed


def _rows_for(width: int) -> int:
    """How many nodes one column holds before it wraps: all of a narrow plan's, about √n·(dx/dy) of a wide one's."""
    if width <= _MAX_ROWS:
        return max(width, 1)
    return math.ceil(math.sqrt(width * _DX / _DY))


def render_svg(graph: nx.DiGraph, title: str = "plan") -> str:
    """The graph as an SVG drawing (nodes need `state`, `round`, `hedged`, `replayed`, `replaces` attributes)."""
    states = [str(s) for _, s in graph.nodes(data="state")]
    summary = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states))) or "waiting for a plan"
    header = f"<div><b>{html.escape(title)}</b>: {html.escape(summary)}</div>"
    if graph.number_of_nodes() == 0:
        return header
    pos = _positions(graph)
    xy = {n: (_PAD + c * _DX, _PAD + r * _DY) for n, (c, r) in pos.items()}
    width = _PAD * 2 + max(x for x, _ in xy.values()) + _W
    height = _PAD * 2 + max(y for _, y in xy.values()) + _H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="agentlab-dag" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for a, b in graph.edges:
        (x1, y1), (x2, y2) = xy[a], xy[b]
        parts.append(
            f'<line x1="{x1 + _W}" y1="{y1 + _H / 2}" x2="{x2}" y2="{y2 + _H / 2}" stroke="#555" '
            'marker-end="url(#arrow)"/>'
        )
    for node, data in graph.nodes(data=True):
        x, y = xy[node]
        replaced = data["replaces"]
        if replaced in xy:
            rx, ry = xy[replaced]
            parts.append(
                f'<line x1="{rx + _W / 2}" y1="{ry + _H}" x2="{x + _W / 2}" y2="{y}" stroke="#ff7f0e" '
                'stroke-dasharray="4 3"/>'
            )
        fill = COLOURS.get(data["state"], "#ffffff")
        ink = "#000" if data["state"] == "pending" else "#fff"
        ring = ' stroke="#000" stroke-width="3"' if data["hedged"] else ' stroke="#333"'
        parts.append(
            f'<g class="node" data-id="{html.escape(node)}" data-state="{data["state"]}">'
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="{fill}"{ring}/>'
            f'<text x="{x + _W / 2}" y="{y + 14}" text-anchor="middle" fill="{ink}">{html.escape(node[:14])}</text>'
            f'<text x="{x + _W / 2}" y="{y + 27}" text-anchor="middle" fill="{ink}" font-size="9">'
            f"{data['state']}{' (replayed)' if data['replayed'] else ''}{' (hedged)' if data['hedged'] else ''}"
            "</text></g>"
        )
    parts.append("</svg>")
    return header + "".join(parts)
