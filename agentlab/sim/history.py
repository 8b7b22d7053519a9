"""What happened in one simulated run, in order: plain records a checker reads (lab 07; README: Simulation).

A record is (seq, t, kind, subject, data): `t` is the run's virtual time, `subject` what it happened to
(an order, a sub-task, a budget), `data` a small JSON-able mapping. The history's `digest()` is a hash of
its canonical JSON, so two replays of one seed can be compared with one line; `save`/`load` keep a
history as a JSON file, for a grader or a bug report.

    fault         the nemesis struck (`data["fault"]`, where)
    charge        the payment desk charged an order (`data["key"]`, `data["first"]`: a new charge or not)
    execute       a runner started a copy of a sub-task (`data["journal"]`: the step's journal key)
    ran           how that copy came back (`data["state"]`; `data["gave_up"]`: its agent gave up)
    gave_up       the model said it could not finish a sub-task
    commit        the journal durably recorded a step (`data["key"]`)
    spend         the run's budget at its end: tokens the model really used, the ledger's count, the limit
    crash/resume  the supervisor's process died / a new one resumed the run
    result        how a sub-task ended (`data["state"]`, `data["stop_reason"]`)
    planned       a sub-task entered the plan (`data["origin"]`)
    outcome       how the run ended (`data["stop_reason"]`, `data["answer"]`)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["History", "Record"]


@dataclass(frozen=True)
class Record:
    seq: int
    t: float
    kind: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "t": round(self.t, 6),
            "kind": self.kind,
            "subject": self.subject,
            "data": dict(self.data),
        }


@dataclass
class History:
    """The records of one run, and what it was run with (`meta`: seed, faults, size)."""

    meta: dict[str, Any] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)

    def add(self, t: float, kind: str, subject: str, **data: Any) -> None:
        self.records.append(Record(len(self.records), t, kind, subject, data))

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def of(self, kind: str) -> list[Record]:
        return [r for r in self.records if r.kind == kind]

    def as_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "records": [r.as_json() for r in self.records]}

    def digest(self) -> str:
        """A hash of the whole history: equal for equal runs, different if anything differs."""
        text = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_json(), indent=1, default=str), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> History:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        records = [Record(r["seq"], r["t"], r["kind"], r["subject"], r["data"]) for r in raw["records"]]
        return cls(raw["meta"], records)

    def timeline(self, width: int = 100) -> str:
        """The history as text, one line per record, faults marked with `!`."""
        lines = []
        for r in self.records:
            mark = "!" if r.kind in ("fault", "crash") else " "
            data = ", ".join(f"{k}={v}" for k, v in r.data.items())
            lines.append(f"{mark}{r.t:8.3f}  {r.kind:<8} {r.subject:<14} {data}"[:width])
        return "\n".join(lines)

    def plot(self) -> Any:
        """The history as a figure for a notebook: one lane per kind of record, faults in red."""
        import matplotlib.pyplot as plt  # noqa: PLC0415  (only a notebook draws)

        kinds = list(dict.fromkeys(r.kind for r in self.records))
        figure, axes = plt.subplots(figsize=(10, 0.35 * len(kinds) + 1))
        for r in self.records:
            fault = r.kind in ("fault", "crash")
            axes.plot(r.t, kinds.index(r.kind), "x" if fault else "o", color="#d62728" if fault else "#1f77b4")
            if fault:
                axes.annotate(str(r.data.get("fault", r.kind)), (r.t, kinds.index(r.kind)), fontsize=7, rotation=30)
        axes.set_yticks(range(len(kinds)), kinds)
        axes.set_xlabel("virtual time (s)")
        axes.set_title(f"seed {self.meta.get('seed')} · history {self.digest()}")
        return figure
