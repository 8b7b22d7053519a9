"""Breaking shared memory on purpose: K agents on one blackboard, interleaved by a seed (labs 05 and 07).

`simulate_board(seed, faults)` runs K clients against a real memory server (`MemoryServer`: the board's
`BoardStore` on a SQLite file) in this process. Each client runs operations that yield one message at a
time (`agentlab.sim.board_clients`: a read, a compare-and-set, a fencing token, a lease request), and
the scheduler picks whose message is delivered next with the world's keyed draws, so one seed is one
interleaving, the same on every replay. A client runs a few operations drawn from three keys' workloads:

    counter       "incr": `Blackboard.update`'s steps — read, add one, compare-and-set, again if stale;
                  "read"
    register      "cas": read the version, write if it is still that version (refused if not); "read"
    lease/report  "write": take the lease (the scheduler's Lock), take a fencing token, write with it

Every operation leaves an "invoke" record and an "ok", "fail" (refused) or "info" record (indeterminate)
on a logical clock, and the run ends with the board's log: `agentlab.sim.board_checkers` judges them.
The nemesis (`BOARD_FAULTS`, keyed draws recorded as "fault" records):

    server_crash  the memory server dies while a message is with it, before or after applying it; it
                  restarts on the same file. The client's handle sends the message again (same write_id,
                  as `ServerHandle.call` does) or its caller gives up: an indeterminate operation
    pause         a lease holder stops right after taking its token, past its lease, while another
                  client takes the lease and a newer token; then it wakes and writes with its old one
    duplicate     the network delivers a write a second time, a few ticks later (same write_id)

`BoardParts` swaps a client's operations for a broken variant; `explore_board` judges many seeds.
Left out: more than one memory server at once, and clocks that drift (a lease here is counted in ticks).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentlab.errors import MemoryUnavailable, UsageError
from agentlab.memory.server import MemoryServer
from agentlab.sim.board_checkers import BOARD_CHECKERS
from agentlab.sim.board_clients import Call, Lease, Operation, cas_increment, cas_write, fenced_write, read
from agentlab.sim.checkers import Checker
from agentlab.sim.explore import Report, Violation
from agentlab.sim.history import History
from agentlab.sim.world import World

__all__ = ["BOARD_FAULTS", "BoardParts", "Leases", "explore_board", "simulate_board"]

BOARD_FAULTS: Mapping[str, float] = {"server_crash": 0.02, "pause": 0.5, "duplicate": 0.2}
"""Each fault's rate: per message to the server, per fencing token taken, per write sent."""
BOARD = "sim"
LEASE_TTL = 4
"""Ticks a lease outlives its holder's last refresh (a paused holder refreshes nothing)."""
PAUSE = 16
"""Ticks a paused lease holder sleeps: longer than its lease."""
RAM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
"""Where the SQLite file goes: a crash here kills a process, not the machine, so a RAM disk keeps every
commit as a disk would, without the fsyncs."""


@dataclass(frozen=True)
class BoardParts:
    """The clients' operations, agentlab's by default; a test swaps one for a broken variant."""

    incr: Operation = cas_increment
    cas: Operation = cas_write
    write: Operation = fenced_write
    read: Operation = read
    server: Callable[[str], MemoryServer] = MemoryServer
    """Opens the memory server on the file (at the start, and at each restart after a crash)."""


WORKLOAD: tuple[tuple[str, str], ...] = (
    ("incr", "counter"), ("incr", "counter"), ("read", "counter"),
    ("cas", "register"), ("read", "register"),
    ("write", "lease/report"),
)  # fmt: skip
"""The operations a client draws from, and the key each works on."""


@dataclass
class Leases:
    """The lease service (a Dask `Lock`): one holder, kept while its process refreshes it every tick;
    free for the taking once nobody refreshed it for `LEASE_TTL` ticks."""

    holder: str | None = None
    refreshed: int = 0

    def acquire(self, who: str, now: int) -> bool:
        if self.holder not in (None, who) and now - self.refreshed <= LEASE_TTL:
            return False
        self.holder, self.refreshed = who, now
        return True

    def release(self, who: str) -> None:
        if self.holder == who:  # a holder that lost its lease does not free its successor's
            self.holder = None


@dataclass
class _Client:
    name: str
    steps: Generator[Call | Lease, Any, None]
    pending: Call | Lease | None = None
    paused_until: int = 0


def _client(world: World, name: str, ops: int, parts: BoardParts) -> Generator[Call | Lease, Any, None]:
    """One agent: `ops` operations drawn from WORKLOAD, each recorded as invoke, then ok/fail/info."""
    for i in range(ops):
        name_of_op, key = WORKLOAD[int(world.draw("op", name, i) * len(WORKLOAD))]
        op_id, note = f"{name}.{i}", dict[str, Any]()
        world.record("invoke", key, id=op_id, client=name, op=name_of_op)
        operation: Operation = getattr(parts, name_of_op)
        try:
            kind, seen = yield from operation(key, op_id, note)
        except MemoryUnavailable:
            kind, seen = "info", {}
        world.record(kind, key, id=op_id, client=name, op=name_of_op, **{**note, **seen})
        if name_of_op == "write":
            yield Lease("release")


class _Run:
    """The scheduler: one message delivered per tick, to a client the seed picks among those not paused."""

    def __init__(self, world: World, path: str, parts: BoardParts) -> None:
        self.world, self.path, self.parts = world, path, parts
        self.server = parts.server(path)
        self.tick = 0
        self.leases = Leases()
        self.late: list[tuple[int, Call]] = []
        world.now = lambda: float(self.tick)

    def ask(self, call: Call) -> Any:
        return self.server.call(f"board.{call.method}", BOARD, *call.args, **call.kwargs)

    def run(self, clients: list[_Client]) -> None:
        for c in clients:
            c.pending = next(c.steps)
        while any(c.pending is not None for c in clients):
            self.tick += 1
            holder = next((c for c in clients if c.name == self.leases.holder), None)
            if holder is not None and holder.paused_until <= self.tick:
                self.leases.refreshed = self.tick  # a live holder's process refreshes its lease
            for due in [m for m in self.late if m[0] <= self.tick]:
                self.late.remove(due)
                again = self.ask(due[1])  # nobody waits for this answer: the history notes it
                key, write_id = due[1].args[0], due[1].kwargs.get("write_id")
                self.world.record("redelivered", key, write_id=write_id, ok=again.ok, replayed=again.replayed)
            ready = [c for c in clients if c.pending is not None and c.paused_until <= self.tick]
            if ready:
                self.step(ready[int(self.world.draw("pick", self.tick) * len(ready))])

    def step(self, client: _Client) -> None:
        """Deliver the client's message and hand it the answer (or the error its handle raised)."""
        message = client.pending
        answer: Any = None
        if isinstance(message, Lease) and message.action == "acquire":
            answer = self.leases.acquire(client.name, self.tick)
        elif isinstance(message, Lease):
            self.leases.release(client.name)
        elif isinstance(message, Call):
            answer = self.deliver(client, message)
        try:
            if isinstance(answer, MemoryUnavailable):
                client.pending = client.steps.throw(answer)  # the caller's handle gave up
            else:
                client.pending = client.steps.send(answer)
        except StopIteration:
            client.pending = None

    def deliver(self, client: _Client, call: Call) -> Any:
        """The server's answer to `call`, with the nemesis around it."""
        if self.world.fires("server_crash", self.tick):
            if self.world.draw("applied", self.tick) < 0.5:
                self.ask(call)  # it committed, then the process died before answering
            self.server.db.close()
            self.server = self.parts.server(self.path)  # a new server opens the same file
            if self.world.draw("gave-up", self.tick) < 0.5:
                return MemoryUnavailable("the memory server died during the call")
        answer = self.ask(call)  # (again, after a crash: the handle re-sends the same message)
        if call.method == "write" and self.world.fires("duplicate", call.kwargs.get("write_id"), self.tick):
            self.late.append((self.tick + 1 + int(8 * self.world.draw("late", self.tick)), call))
        if call.method == "issue_token" and self.world.fires("pause", client.name, self.tick):
            client.paused_until = self.tick + PAUSE
        return answer


def simulate_board(
    seed: int,
    faults: frozenset[str] = frozenset(),
    *,
    clients: int = 3,
    ops: int = 6,
    parts: BoardParts | None = None,
    schedule: frozenset[tuple[str, str]] | None = None,
) -> History:
    """Run one seed (see the module docstring) and return its history, the board's log at its end;
    `schedule` set: exactly those (fault, where) strike (`agentlab.sim.world`'s schedule mode)."""
    unknown = set(faults) - set(BOARD_FAULTS)
    if unknown:
        raise UsageError(f"no board fault called {sorted(unknown)}; known: {', '.join(BOARD_FAULTS)}")
    parts = parts or BoardParts()
    about = {"seed": seed, "faults": sorted(faults), "size": clients, "board": True}
    world = World(seed, frozenset(faults), schedule, History(about), rates=BOARD_FAULTS)
    with tempfile.TemporaryDirectory(prefix="agentlab-sim-board-", dir=RAM) as where:
        run = _Run(world, str(Path(where) / "board.sqlite"), parts)
        try:
            run.run([_Client(f"c{i}", _client(world, f"c{i}", ops, parts)) for i in range(clients)])
            for e in run.ask(Call("log", (0, 100_000))):
                world.record("log", e.key, seq=e.seq, version=e.version, value=e.value, writer=e.writer)
        finally:
            run.server.db.close()
    world.history.meta["fired"] = [list(f) for f in world.fired]
    if schedule is not None:
        world.history.meta["schedule"] = sorted(list(f) for f in schedule)
    return world.history


def explore_board(
    seeds: Iterable[int],
    faults: frozenset[str],
    checkers: Mapping[str, Checker] = BOARD_CHECKERS,
    *,
    clients: int = 3,
    ops: int = 6,
    parts: BoardParts | None = None,
) -> Report:
    """Simulate every seed and judge it with every checker: the same pass^k `Report` as `explore`."""
    report = Report(passed=dict.fromkeys(checkers, 0))
    start = time.perf_counter()
    for seed in seeds:
        history = simulate_board(seed, faults, clients=clients, ops=ops, parts=parts)
        fired = tuple((str(f), str(w)) for f, w in history.meta["fired"])
        report.runs += 1
        for name, check in checkers.items():
            messages = check(history)
            if messages:
                report.violations.append(Violation(seed, name, tuple(messages), faults, clients, fired))
            else:
                report.passed[name] += 1
    report.seconds = time.perf_counter() - start
    return report
