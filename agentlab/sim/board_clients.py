"""The agents' side of the board simulation: the messages they send, and their operations (labs 05 and 07).

An operation is a generator: it yields one message at a time — a `Call` to the memory server, exactly
what `Blackboard` sends through its `ServerHandle`, or a `Lease` request to the lease service — and is
sent back the answer, so the scheduler of `agentlab.sim.board` can interleave many agents' operations
step by step. It returns how it ended: ("ok", what it saw or wrote) or ("fail", why it was refused).
Before it sends a write it notes what it writes in `note` (with sent=True): if the server then dies
under it, the history says what may have landed.

    read           read a key
    cas_increment  `Blackboard.update(key, +1)`: read, add one, compare-and-set, again if stale
    cas_write      a compare-and-set register: write if the version is still the one read
    fenced_write   take the lease, then a fencing token, then write with the token

Left out: the agent's thinking between steps (a step here is a message; the scheduler decides how long
each waits).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentlab.memory.values import Entry, WriteResult

__all__ = [
    "Call",
    "Lease",
    "Operation",
    "Steps",
    "answered",
    "cas_increment",
    "cas_write",
    "fenced_write",
    "observed",
    "read",
]

ATTEMPTS = 100
"""Compare-and-set attempts of an increment, as `Blackboard.update`'s default."""


@dataclass(frozen=True)
class Call:
    """A message to the memory server: `board.<method>(board, *args, **kwargs)`, as `Blackboard` sends it."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lease:
    """A message to the lease service: "acquire" (answered True or False) or "release"."""

    action: str


Steps = Generator[Call | Lease, Any, tuple[str, dict[str, Any]]]
Operation = Callable[[str, str, dict[str, Any]], Steps]
"""An operation on a key: `op(key, op_id, note)` yields messages and returns ("ok" | "fail", what it saw).
It puts what it is about to write in `note` (with sent=True) so a crash can record what may have landed."""


def observed(entry: Entry | None) -> dict[str, Any]:
    """What a client saw of a key: its version and value (0 and None if absent)."""
    return {"version": entry.version, "value": entry.value} if entry else {"version": 0, "value": None}


def answered(result: WriteResult) -> tuple[str, dict[str, Any]]:
    """An operation's ending from the answer to its write: ok with what was written, or fail and why."""
    return ("ok", observed(result.entry)) if result.ok else ("fail", {"reason": result.reason})


def read(key: str, op_id: str, note: dict[str, Any]) -> Steps:
    """Read the key."""
    return "ok", observed((yield Call("get", (key,))))


def cas_increment(key: str, op_id: str, note: dict[str, Any]) -> Steps:
    """`Blackboard.update(key, +1)`: read, add one, compare-and-set on the version read; again if stale.
    Every attempt carries the same write_id, so a retried message lands at most once."""
    for _ in range(ATTEMPTS):
        current = yield Call("get", (key,))
        value = (current.value if current else 0) + 1
        note["sent"] = True
        expected = current.version if current else 0
        result = yield Call("write", (key, value), {"expected": expected, "write_id": op_id, "writer": op_id})
        if result.ok:
            return answered(result)
    return "fail", {"reason": "stale"}


def cas_write(key: str, op_id: str, note: dict[str, Any]) -> Steps:
    """A compare-and-set register: read the version, write this op's id if the version is still that."""
    current = yield Call("get", (key,))
    note.update(expected=current.version if current else 0, value=op_id, sent=True)
    kwargs = {"expected": note["expected"], "write_id": op_id, "writer": op_id}
    return answered((yield Call("write", (key, op_id), kwargs)))


def fenced_write(key: str, op_id: str, note: dict[str, Any]) -> Steps:
    """Take the lease on `key`, then a fencing token, then write with it (the store refuses older tokens).
    The value carries the token, so the board's log shows which token each accepted write had."""
    while not (yield Lease("acquire")):
        pass  # someone holds the lease: ask again
    fence = yield Call("issue_token", (key,))
    note.update(value={"by": op_id, "token": fence.token}, token=fence.token, sent=True)
    return answered((yield Call("write", (key, note["value"]), {"fence": fence, "write_id": op_id, "writer": op_id})))
