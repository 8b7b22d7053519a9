"""Traces: every step of a run as a row — who, what, start, end, outcome (all labs).

A trace is an append-only list of `Event`s. `Trace.to_frame()` turns it into a pandas DataFrame with
times relative to the run's start, which is what the labs plot and measure (critical path, turns).
Times are wall-clock (`time.time()`), so events from other processes line up on one axis.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["Event", "Trace", "merge"]


@dataclass(frozen=True)
class Event:
    """One step: `who` did `what`, from `start` to `end` (epoch seconds), ending in `outcome`."""

    run_id: str
    who: str
    what: str
    start: float
    end: float
    outcome: str
    detail: str = ""
    rpc_of: str = ""
    """The tool whose call this is one RPC attempt of (`agentlab.rpc.guarded`); "" for any other step."""

    @property
    def duration(self) -> float:
        return self.end - self.start


class Trace:
    """The events of one run, in the order they were recorded (safe to add to from several threads)."""

    def __init__(self, run_id: str, events: list[Event] | None = None) -> None:
        self.run_id = run_id
        self.events: list[Event] = list(events or [])
        self._lock = threading.Lock()

    def add(self, who: str, what: str, start: float, end: float, outcome: str, detail: str = "") -> Event:
        event = Event(self.run_id, who, what, start, end, outcome, detail)
        with self._lock:
            self.events.append(event)
        return event

    def __len__(self) -> int:
        return len(self.events)

    def to_frame(self) -> pd.DataFrame:
        """The trace as a DataFrame; `t0`/`t1` are seconds since the first event started."""
        columns = ["run_id", "who", "what", "start", "end", "outcome", "detail", "rpc_of"]
        frame = pd.DataFrame([asdict(e) for e in self.events], columns=columns)
        origin = frame["start"].min() if len(frame) else 0.0
        frame["t0"] = frame["start"] - origin
        frame["t1"] = frame["end"] - origin
        frame["duration"] = frame["end"] - frame["start"]
        return frame

    def table(self) -> str:
        """A plain-text table for terminals (the CLI prints this)."""
        frame = self.to_frame()
        if frame.empty:
            return "(empty trace)"
        shown = frame[["t0", "duration", "who", "outcome", "what"]].copy()
        shown["what"] = shown["what"].str.slice(0, 70)
        return shown.to_string(index=False, float_format=lambda x: f"{x:.3f}")

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        return str(
            frame[["t0", "t1", "who", "what", "outcome"]].to_html(index=False, float_format=lambda x: f"{x:.3f}")
        )


def merge(*streams: Iterable[Event]) -> tuple[Event, ...]:
    """Events recorded apart (a loop's steps, its tool calls' RPC attempts, several sub-tasks) on one
    time axis, in the order they started."""
    return tuple(sorted((e for stream in streams for e in stream), key=lambda e: e.start))
