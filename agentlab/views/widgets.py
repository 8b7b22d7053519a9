"""Seeing a fan-out: a live ipywidgets progress table, and a Gantt chart of the finished trace (lab 03).

`LiveProgress` is an observer: pass it to `Supervisor(..., observers=[progress])` or `run_round(...,
observe=progress)` and display it; each sub-task's row shows its state, the worker it ran on and how
long it has been running, updated as futures complete, and the last word from a remote party working
on it (an A2A agent's state, an MCP server's progress: `RoundEvent` kind "remote").
`gantt(result)` draws every step of a finished run on a time axis — supervisor steps and sub-tasks —
with each round's critical path in red.
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets

from agentlab.analysis import critical_path
from agentlab.errors import ConfigError
from agentlab.events import RoundEvent
from agentlab.fanout.supervisor import FanOutResult
from agentlab.steps import FINISHED
from agentlab.views.dag import COLOURS

__all__ = ["LiveProgress", "critical_ids", "gantt"]

_COLOURS = {**COLOURS, "planned": "#bbbbbb", "ready": "#bbbbbb"}  # the DAG view's palette


class LiveProgress:
    """A table of sub-tasks (state, worker, elapsed) that updates as the supervisor reports events.

    An event costs the same at any width: the counts per state are kept as events arrive, each row's
    HTML is built when that row changes, and the table shows at most `max_rows` rows (the first ones
    planned; the summary line counts them all), so a 100,000-wide fan-out re-renders 50 rows, not 100,000.
    The widget is redrawn at most every `every` seconds of `clock` (each redraw is a message to the
    browser), and once more when every sub-task has finished, so the last picture is the true one.
    """

    def __init__(
        self, title: str = "fan-out", max_rows: int = 50, every: float = 0.1, clock: Callable[[], float] = time.time
    ) -> None:
        self.title, self.max_rows, self.every, self.clock = title, max_rows, every, clock
        self._drawn = -math.inf
        self.rows: dict[str, dict[str, Any]] = {}
        self._counts: dict[str, int] = {}
        self._html: dict[str, str] = {}  # the shown rows' HTML, by sub-task id
        self.widget = ipywidgets.HTML(value=self._render())
        self._lock = threading.Lock()

    def __call__(self, event: RoundEvent) -> None:
        now, task, kind = self.clock(), event.task, event.kind
        with self._lock:
            row = self.rows.get(task.id)
            if row is None:
                row = {
                    "role": task.role,
                    "state": "planned",
                    "worker": "",
                    "since": None,
                    "until": None,
                    "hedged": False,
                    "note": "",
                }
                self.rows[task.id] = row
                self._count("planned", +1)
            before = row["state"]
            if kind in ("dispatched", "hedged"):
                row["since"] = row["since"] or now
                row["state"] = "running"
                row["hedged"] = row["hedged"] or kind == "hedged"
            elif kind in FINISHED:
                row["state"], row["until"] = kind, now
                row["worker"] = (event.result.worker if event.result else "") or row["worker"]
            elif kind == "remote" and event.remote is not None:
                row["note"] = f"{event.remote.agent} {event.remote.state}: {event.remote.text}"[:120]
            if row["state"] != before:
                self._count(before, -1)
                self._count(row["state"], +1)
            if task.id in self._html or len(self._html) < self.max_rows:
                self._html[task.id] = self._row(task.id, row, now)
            finished = sum(self._counts.get(s, 0) for s in FINISHED)
            if now - self._drawn >= self.every or finished == len(self.rows):
                self._drawn = now
                self.widget.value = self._render()

    def refresh(self) -> None:
        """Re-draw elapsed times now (events re-draw too; call this from a timer if you like)."""
        now = self.clock()
        with self._lock:
            self._html = {tid: self._row(tid, self.rows[tid], now) for tid in self._html}
            self._drawn = now
            self.widget.value = self._render()

    def counts(self) -> dict[str, int]:
        return {s: n for s, n in sorted(self._counts.items()) if n}

    def _count(self, state: str, change: int) -> None:
        self._counts[state] = self._counts.get(state, 0) + change

    @staticmethod
    def _row(tid: str, r: dict[str, Any], now: float) -> str:
        elapsed = ((r["until"] or now) - r["since"]) if r["since"] else 0.0
        colour = _COLOURS.get(r["state"], "#000")
        return (
            f"<tr><td>{html.escape(tid)}</td><td>{r['role']}</td>"
            f"<td style='color:{colour}'><b>{r['state']}</b>{' (hedged)' if r['hedged'] else ''}"
            f"{'<br><small>' + html.escape(r['note']) + '</small>' if r.get('note') else ''}</td>"
            f"<td>{html.escape(r['worker'])}</td><td>{elapsed:.2f} s</td></tr>"
        )

    def _render(self) -> str:
        summary = ", ".join(f"{n} {s}" for s, n in self.counts().items()) if self.rows else "waiting"
        hidden = len(self.rows) - len(self._html)
        more = f"<tr><td colspan='5'>… and {hidden} more</td></tr>" if hidden > 0 else ""
        return (
            f"<b>{html.escape(self.title)}</b>: {summary}<table><tr><th>sub-task</th><th>role</th>"
            f"<th>state</th><th>worker</th><th>elapsed</th></tr>{''.join(self._html.values())}{more}</table>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def critical_ids(result: FanOutResult) -> set[str]:
    """The sub-tasks on each round's critical path."""
    ids: set[str] = set()
    for plan in result.plans:
        durations = {r.id: r.duration for r in result.results if r.id in plan.graph}
        ids.update(critical_path(plan.graph, durations)[0])
    return ids


def gantt(result: FanOutResult, ax: Any = None) -> Any:
    """A Gantt chart of a finished run; the critical path is red. Returns the matplotlib Figure."""
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415  (an optional, heavy import)
    except ImportError as exc:
        raise ConfigError("gantt() needs matplotlib: pip install 'agentlab[labs]'") from exc
    frame = result.to_frame()
    critical = critical_ids(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.4 * len(frame) + 1))
    for row, step in enumerate(frame.to_dict("records")):
        task_id = str(step["who"]).split(":", 1)[-1]
        colour = "#d62728" if task_id in critical else ("#555555" if step["who"] == "supervisor" else "#1f77b4")
        ax.barh(row, step["t1"] - step["t0"], left=step["t0"], color=colour)
    ax.set_yticks(range(len(frame)), [f"{w} ({o})" for w, o in zip(frame.who, frame.outcome, strict=True)])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the run began")
    ax.set_title("red: each round's critical path")
    return ax.figure
