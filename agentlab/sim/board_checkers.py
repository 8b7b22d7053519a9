"""The blackboard's promises, each a pure function over a simulated run's history (labs 05 and 07; README: Simulation).

The history is what `agentlab.sim.board` records: for each client operation an "invoke" record and
then its ending — "ok" (with what it saw or wrote), "fail" (refused: nothing written) or "info" (the
memory server crashed under it and the client gave up: it may or may not have taken effect) — and, at
the end, the board's log as the store kept it ("log" records, in `seq` order). Records are matched by
`data["id"]`; the history's order is the run's real-time order.

    linearizable  every key behaves like one register, each operation taking effect at one instant
                  between its invoke and its ending (Herlihy & Wing; checked like Knossos/Porcupine)
    fenced        no write carrying a stale fencing token is accepted
    durable       every acknowledged write is in the board's log, whatever crashed in between

Linearizability is local (Herlihy & Wing, 1990): a history is linearizable when each key's is, so each
key is checked on its own — which keeps the search small.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentlab.sim.checkers import Checker
from agentlab.sim.history import History

__all__ = ["BOARD_CHECKERS", "Op", "durable", "fenced", "linearizable", "operations"]

State = tuple[int, Any]
"""A key's (version, value); (0, None) before its first write."""

WRITES = ("incr", "write", "cas")


@dataclass(frozen=True)
class Op:
    """One client operation on one key: invoked at `start`, ended at `end` (inf: indeterminate)."""

    id: str
    name: str
    """"read", "incr" (add one), "write" (blind) or "cas" (write if the version is `expected`)."""
    kind: str
    """How it ended: "ok", "fail" or "info"."""
    start: float
    end: float
    data: Mapping[str, Any]

    def __str__(self) -> str:
        got = {k: self.data[k] for k in ("expected", "version", "value", "reason") if k in self.data}
        return f"{self.id} {self.name} {self.kind} {got}"


def operations(history: History) -> dict[str, list[Op]]:
    """The operations of each key that constrain its register: invokes matched with their endings.

    Dropped: refused blind writes and increments (no effect, nothing observed), and indeterminate ops
    that never sent a write (`data["sent"]` unset). An invoke with no ending at all is indeterminate."""
    started: dict[str, tuple[float, str, str]] = {}
    ended: dict[str, Op] = {}
    for r in history:
        if r.kind == "invoke":
            started[r.data["id"]] = (r.seq, r.subject, r.data["op"])
        elif r.kind in ("ok", "fail", "info"):
            start, _, name = started[r.data["id"]]
            ended[r.data["id"]] = Op(r.data["id"], name, r.kind, start, r.seq if r.kind != "info" else math.inf, r.data)
    found: dict[str, list[Op]] = {}
    for op_id, (start, key, name) in started.items():
        op = ended.get(op_id, Op(op_id, name, "info", start, math.inf, {}))
        unknown = op.kind == "info" and (name == "read" or not op.data.get("sent"))
        if not unknown and not (op.kind == "fail" and name != "cas"):
            found.setdefault(key, []).append(op)
    return found


def _step(state: State, op: Op) -> State | None:
    """The key's state after `op` takes effect, or None if `op` could not have ended as it did from `state`."""
    version, value = state
    d = op.data
    if op.name == "read":
        return state if (d["version"], d["value"]) == state else None
    if op.name == "cas" and op.kind == "fail":
        return state if d["expected"] != version else None  # refused as stale: the version had moved
    if op.name == "cas" and d["expected"] != version:
        return None
    after = (version + 1, (value or 0) + 1 if op.name == "incr" else d["value"])
    if op.kind == "ok" and (d["version"], d["value"]) != after:
        return None
    return after


def _search(ops: list[Op]) -> tuple[bool, int]:
    """Wing & Gong's search with memoisation over (linearized set, state), as in Lowe's and Porcupine's
    checkers: is there an order of `ops` respecting real time whose every op ends as recorded? Also the
    most ops any order got through, for the message."""
    must = sum(1 << i for i, op in enumerate(ops) if op.end != math.inf)  # the info ops may never happen
    seen: set[tuple[int, int, str]] = set()
    best = 0

    def search(done: int, state: State) -> bool:
        nonlocal best
        best = max(best, done.bit_count())
        if done & must == must:
            return True
        memo = (done, state[0], json.dumps(state[1], sort_keys=True))
        if memo in seen:
            return False
        seen.add(memo)
        # an op may go next only if no pending op ended before it was invoked
        horizon = min(op.end for i, op in enumerate(ops) if not done >> i & 1)
        for i, op in enumerate(ops):
            if not done >> i & 1 and op.start < horizon:
                after = _step(state, op)
                if after is not None and search(done | 1 << i, after):
                    return True
        return False

    return search(0, (0, None)), best


def linearizable(history: History) -> list[str]:
    """Linearizability: on every key, the operations could have taken effect one at a time, each at an
    instant between its invoke and its ending, in an order where each read saw the last write's version
    and value, each increment added one to the value before it, each compare-and-set landed only on the
    version it expected (and was refused only when the version had moved) and each acknowledged write
    got the next version. Indeterminate operations (lost in a crash) may have taken effect or not."""
    wrong = []
    for key, ops in sorted(operations(history).items()):
        ok, best = _search(ops)
        if not ok:
            listed = "; ".join(map(str, ops))
            wrong.append(f"{key}: no linear order of its {len(ops)} operations (the best got through {best}): {listed}")
    return wrong


def fenced(history: History) -> list[str]:
    """Fencing: no write carrying a stale fencing token is accepted — in the board's log, a write to a
    resource with token t never follows an accepted write to it with a token newer than t. (The
    simulated lease holders write their token into the value, so the log says what each write carried.)"""
    newest: dict[str, int] = {}
    wrong = []
    for r in history.of("log"):
        value = r.data["value"]
        token = value.get("token") if isinstance(value, dict) else None
        if token is None:
            continue
        if token < newest.get(r.subject, 0):
            wrong.append(
                f"{r.subject}: {r.data['writer']}'s write with token {token} was accepted (seq {r.data['seq']}) "
                f"after one with token {newest[r.subject]}"
            )
        newest[r.subject] = max(newest.get(r.subject, 0), token)
    return wrong


def durable(history: History) -> list[str]:
    """Durability: every write a client saw acknowledged is in the board's log at the end, at the version
    and with the value it was acknowledged with — across every crash and restart of the memory server."""
    logged = {(r.subject, r.data["version"]): r.data["value"] for r in history.of("log")}
    missing = object()
    wrong = []
    for r in history.of("ok"):
        if r.data["op"] in WRITES and logged.get((r.subject, r.data["version"]), missing) != r.data["value"]:
            wrong.append(f"{r.data['id']}'s acknowledged write of {r.subject} v{r.data['version']} is not in the log")
    return wrong


BOARD_CHECKERS: Mapping[str, Checker] = {"linearizable": linearizable, "fenced": fenced, "durable": durable}
