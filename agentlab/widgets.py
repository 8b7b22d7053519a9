"""Seeing a fan-out: a live ipywidgets progress table, and a Gantt chart of the finished trace (lab 03).

`LiveProgress` is an observer: pass it to `Supervisor(..., observers=[progress])` or `run_round(...,
observe=progress)` and display it; each sub-task's row shows its state, the worker it ran on and how
long it has been running, updated as futures complete. `gantt(result)` draws every step of a finished
run on a time axis — supervisor steps and sub-tasks — with each round's critical path in red.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets

from agentlab.analysis import critical_path
from agentlab.errors import ConfigError
from agentlab.plan import SubTask
from agentlab.supervisor import FanOutResult

__all__ = ["LiveProgress", "critical_ids", "gantt"]

_COLOURS = {
    "running": "#1f77b4",
    "done": "#2ca02c",
    "failed": "#d62728",
    "timeout": "#ff7f0e",
    "cancelled": "#7f7f7f",
    "blocked": "#7f7f7f",
    "planned": "#bbbbbb",
    "ready": "#bbbbbb",
}


class LiveProgress:
    """A table of sub-tasks (state, worker, elapsed) that updates as the supervisor reports events."""

    def __init__(self, title: str = "fan-out") -> None:
        self.title = title
        self.rows: dict[str, dict[str, Any]] = {}
        self.widget = ipywidgets.HTML(value=self._render())
        self._lock = threading.Lock()

    def __call__(self, event: str, task: SubTask, info: dict[str, Any]) -> None:
        now = time.time()
        with self._lock:
            row = self.rows.setdefault(
                task.id,
                {"role": task.role, "state": "planned", "worker": "", "since": None, "until": None, "hedged": False},
            )
            if event in ("dispatched", "hedged"):
                row["since"] = row["since"] or now
                row["state"] = "running"
                row["hedged"] = row["hedged"] or event == "hedged"
            elif event in ("done", "failed", "timeout", "cancelled", "blocked"):
                row["state"], row["until"] = event, now
                result = info.get("result")
                row["worker"] = getattr(result, "worker", "") or row["worker"]
            self.widget.value = self._render(now)

    def refresh(self) -> None:
        """Re-draw elapsed times now (events already re-draw; call this from a timer if you like)."""
        with self._lock:
            self.widget.value = self._render()

    def counts(self) -> dict[str, int]:
        states = [r["state"] for r in self.rows.values()]
        return {s: states.count(s) for s in sorted(set(states))}

    def _render(self, now: float | None = None) -> str:
        now = now or time.time()
        lines = []
        for tid, r in self.rows.items():
            elapsed = ((r["until"] or now) - r["since"]) if r["since"] else 0.0
            colour = _COLOURS.get(r["state"], "#000")
            lines.append(
                f"<tr><td>{html.escape(tid)}</td><td>{r['role']}</td>"
                f"<td style='color:{colour}'><b>{r['state']}</b>{' (hedged)' if r['hedged'] else ''}</td>"
                f"<td>{html.escape(r['worker'])}</td><td>{elapsed:.2f} s</td></tr>"
            )
        summary = ", ".join(f"{n} {s}" for s, n in self.counts().items()) if self.rows else "waiting"
        return (
            f"<b>{html.escape(self.title)}</b>: {summary}<table><tr><th>sub-task</th><th>role</th>"
            f"<th>state</th><th>worker</th><th>elapsed</th></tr>{''.join(lines)}</table>"
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
