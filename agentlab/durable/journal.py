"""The journal: an append-only record of a run's steps, keyed by what each step is (lab 04).

A supervisor records each step — the plan, every sub-task, each reduce, each side effect — as it starts
and as it ends. After a crash, a resumed run asks the journal for each step *by its content key*
(`agentlab.identity.step_key`: run id, path in the plan, kind, canonical arguments) and skips every step
already done, reusing its recorded result.

Why content keys. A resumed run, or one whose sub-tasks finish in another order, must find "sub-task c of
round 1 with these arguments" by what it is. Positions shift: `asyncio.gather` and `as_completed` finish
in whatever order they like, so "the 2nd result recorded" is a different step on the next run. DBOS #688
(checkpoints numbered in completion order, then an infinite retry loop on recovery) and LangGraph #7780
(a resume list indexed by position) fail exactly there; `PositionLog` reproduces that failure.

Why Dask needs this. Dask is at-least-once: a retry, a worker's death or a lost result runs the same code
again. The journal makes completed steps not run again on resume, and the step key, passed to services
as an idempotency key, makes side effects happen once even when a step does run twice. Recording is
first-writer-wins: a second, different "done" for the same key never replaces the first.

Storage is one row per step event (event sourcing), never a snapshot of the whole state, so it grows
linearly with steps (LangGraph's SqliteSaver snapshots the state per step and grows O(N²)).
`agentlab.durable.sqlite.SqliteJournal` stores it in a local SQLite file; `JournalStore` is the small
interface a server database would implement.

Left out: deleting or compacting old runs, snapshots of long runs, encryption, a server store, and
replay of a step's *inside* (a resumed step either is done, and is skipped, or runs again from scratch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

import pandas as pd

from agentlab.errors import UsageError
from agentlab.fanout.plan import Plan
from agentlab.identity import canonical, identify
from agentlab.steps import SubTask, SubTaskResult
from agentlab.trace import Event
from agentlab.wire import ModelReply, ToolCall

__all__ = [
    "RUN_STATUSES",
    "STATUSES",
    "JournalStore",
    "PositionLog",
    "RunInfo",
    "Step",
    "check_payload",
    "completed",
    "decode_reply",
    "decode_result",
    "encode_reply",
    "encode_result",
    "plan_keys",
    "resume_preview",
    "run_frame",
    "runs_frame",
    "shown_status",
    "subtask_key",
]

STATUSES = ("started", "done", "failed")
"""A step event's status."""
RUN_STATUSES = ("running", "finished", "failed")
"""A run's status: "finished" means it ended with an answer; every other end is "failed", with its stop reason."""


@dataclass(frozen=True)
class Step:
    """One step event: the step `key` reached `status`, with a JSON-able `payload` (its result, when done)."""

    run_id: str
    key: str
    """The content key from `agentlab.identity.step_key`: how the step is found again, on any run."""
    kind: str
    """"plan", "reduce", "subtask", "model", "effect", ..."""
    path: str
    """Where the step sits in the run, for people: "plan", "r1/a", "r2/reduce"."""
    status: str
    """"started", "done" or "failed". "done" is final: nothing recorded later hides it."""
    payload: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    seq: int = 0
    """Assigned by the store, in recording order: for display only, never for finding a step."""


@dataclass(frozen=True)
class RunInfo:
    """One run: its goal, when it began, how it ended (running / finished / failed) and its answer."""

    run_id: str
    goal: str
    created: float
    status: str
    answer: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    """How many of its steps are done."""
    stop_reason: str = ""
    """Why it ended (`agentlab.steps.STOP_REASONS`); empty while it runs."""


class JournalStore(Protocol):
    """What a journal store does; `SqliteJournal` is one, a server database could be another."""

    def append(self, step: Step) -> bool:
        """Record a step event; True if it was new. The same (run, key, status) twice is a no-op, and
        after a key is "done" nothing more is recorded for it: the first writer wins."""
        ...

    def append_many(self, steps: Sequence[Step]) -> list[bool]:
        """Record several step events at once, all or none (one commit): `append` for each, in order."""
        ...

    def get(self, run_id: str, key: str) -> Step | None:
        """The step's current status: its "done" event if it has one, else its latest event."""
        ...

    def steps(self, run_id: str) -> list[Step]:
        """Every event of the run, in recording order (empty for an unknown run)."""
        ...

    def start_run(self, run_id: str, goal: str, meta: Mapping[str, Any] | None = None) -> bool:
        """Begin a run, or resume it (same goal); True if it is new."""
        ...

    def finish_run(self, run_id: str, status: str, answer: str = "", stop_reason: str = "") -> None:
        """Mark a run "finished" or "failed", with its answer and why it stopped."""
        ...

    def run(self, run_id: str) -> RunInfo | None:
        """One run, or None if the journal has never seen it."""
        ...

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first."""
        ...

    def close(self) -> None: ...


def check_payload(value: Any, where: str = "payload", depth: int = 0) -> None:
    """Raise `UsageError` (a ValueError), naming the place, unless `value` is plain JSON that reads back equal.

    `json.dumps` alone would quietly turn int keys into strings, and `canonical` would turn any object
    into its `str()`: a row that looks stored but does not read back as what was recorded.
    """
    if depth > 100:
        raise UsageError(f"{where} is nested more than 100 levels deep (does it contain itself?)")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{where} is {value}, which JSON cannot hold")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise UsageError(f"{where} has a key {k!r} of type {type(k).__name__}; JSON keys are strings")
            check_payload(v, f"{where}[{k!r}]", depth + 1)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_payload(v, f"{where}[{i}]", depth + 1)
    else:
        raise UsageError(f"{where} is a {type(value).__name__}, which is not JSON (encode it first)")


_RESULT_FIELDS = tuple(f.name for f in fields(SubTaskResult))
_EVENT_FIELDS = tuple(f.name for f in fields(Event))


def encode_result(result: SubTaskResult) -> dict[str, Any]:
    """A sub-task result as a JSON-able payload (its trace events included): what `asdict` gives, built
    directly (a result is encoded once per sub-task; `asdict` deep-copies every field)."""
    payload = {name: getattr(result, name) for name in _RESULT_FIELDS}
    payload["events"] = tuple({name: getattr(e, name) for name in _EVENT_FIELDS} for e in result.events)
    return payload


def decode_result(payload: Mapping[str, Any]) -> SubTaskResult:
    """The sub-task result `encode_result` recorded, exactly."""
    fields = dict(payload)
    fields["events"] = tuple(Event(**event) for event in fields.get("events", ()))
    return SubTaskResult(**fields)


def encode_reply(reply: ModelReply) -> dict[str, Any]:
    """A model reply as a JSON-able payload, so a resumed supervisor reuses it instead of asking again."""
    return asdict(reply)


def decode_reply(payload: Mapping[str, Any]) -> ModelReply:
    """The model reply `encode_reply` recorded, exactly."""
    return ModelReply(
        content=payload["content"],
        tool_calls=tuple(ToolCall(**call) for call in payload["tool_calls"]),
        finish_reason=payload["finish_reason"],
        usage=dict(payload["usage"]),
    )


def subtask_key(run_id: str, task: SubTask) -> str:
    """A sub-task's journal key: `agentlab.identity.identify(run_id, task).journal` — what it is (its
    work, round, attempt, dependencies), not when or where it ran."""
    return identify(run_id, task).journal


def plan_keys(run_id: str, plan: Plan) -> dict[str, str]:
    """{step key: sub-task id} for every sub-task of a plan: the keys a resumed round will ask for."""
    return {subtask_key(run_id, task): task.id for task in plan.tasks}


def completed(store: JournalStore, run_id: str) -> dict[str, Step]:
    """The run's done steps by key: what a resume reads once, then consults before running each step."""
    return {step.key: step for step in store.steps(run_id) if step.status == "done"}


class PositionLog:
    """THE WRONG DESIGN, kept as a teaching foil: results recorded by position in completion order.

    Step n of a resumed run is assumed to be whatever was recorded n-th. That holds only if steps finish
    in the same order every time; fan-out (gather, as_completed) breaks it, and the resumed run silently
    gets another step's result. (DBOS #688 checkpointed steps in completion order too, but it checks each
    replayed step's name, so its recovery failed loudly — DBOSUnexpectedStepError, retried in a loop — instead
    of silently; LangGraph #7780's positional resume list misroutes resumes.) Use the content-keyed journal.
    """

    def __init__(self) -> None:
        self.results: list[Any] = []

    def record(self, result: Any) -> int:
        """Append a result; its position is simply how many were recorded before it."""
        self.results.append(result)
        return len(self.results) - 1

    def get(self, position: int) -> Any | None:
        """The result recorded at `position`, whichever step that was."""
        return self.results[position] if position < len(self.results) else None


def _summary(payload: Mapping[str, Any], width: int = 60) -> str:
    """A short line for a payload: a result's outcome, a reply's tool calls or answer, else its JSON."""
    if "state" in payload and "value" in payload:
        text = f"{payload['state']}: {payload.get('value') or payload.get('error') or ''}"
    elif "tool_calls" in payload:
        text = ", ".join(str(c.get("name")) for c in payload["tool_calls"]) or str(payload.get("content") or "")
    else:
        text = canonical(payload) if payload else ""
    return text if len(text) <= width else text[: width - 1] + "…"


def shown_status(step: Step) -> str:
    """A step event's status as a table shows it: a sub-task's recorded result that did not succeed reads
    "failed (recorded)" (or "timeout (recorded)" ...), never plain "done" — the step is final, the work failed."""
    state = step.payload.get("state") if step.kind == "subtask" and step.status == "done" else None
    return f"{state} (recorded)" if isinstance(state, str) and state != "done" else step.status


def run_frame(store: JournalStore, run_id: str) -> pd.DataFrame:
    """Every step event of a run, one row each, in recording order."""
    columns = ["seq", "kind", "path", "key", "status", "created", "summary"]
    rows = [
        (s.seq, s.kind, s.path, s.key, shown_status(s), s.created, _summary(s.payload)) for s in store.steps(run_id)
    ]
    return pd.DataFrame(rows, columns=columns)


def runs_frame(store: JournalStore) -> pd.DataFrame:
    """Every run in the journal, one row each, oldest first."""
    columns = ["run_id", "goal", "created", "status", "stop_reason", "done", "answer"]
    rows = [(r.run_id, r.goal, r.created, r.status, r.stop_reason, r.done, r.answer) for r in store.runs()]
    return pd.DataFrame(rows, columns=columns)


def resume_preview(store: JournalStore, run_id: str, needed: Iterable[str] | None = None) -> pd.DataFrame:
    """What resuming the run would do, step by step: SKIP (done in the journal) or REDO (anything else).

    `needed` is the step keys the resumed run will ask for, in order (default: every key the journal
    holds for the run). Pass a mapping {key: label}, such as `plan_keys(run_id, plan)`, to label the
    keys the journal has never seen.
    """
    latest: dict[str, Step] = {}
    for event in store.steps(run_id):
        if event.key not in latest or latest[event.key].status != "done":
            latest[event.key] = event  # "done" is final; otherwise the latest event tells the status
    keys = list(latest) if needed is None else list(needed)
    labels = needed if isinstance(needed, Mapping) else {}
    rows = []
    for key in keys:
        found = latest.get(key)
        status = shown_status(found) if found else "absent"
        path = found.path if found else str(labels.get(key, ""))
        kind = found.kind if found else key.split("-", 1)[0]  # step_key starts with the kind
        rows.append((key, kind, path, status, "SKIP" if found and found.status == "done" else "REDO"))
    return pd.DataFrame(rows, columns=["key", "kind", "path", "status", "action"])
