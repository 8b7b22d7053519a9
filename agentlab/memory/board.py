"""The blackboard: findings that agents on any worker post and read, with versions and compare-and-set (lab 05).

    board = Blackboard.open(client, "run-42")          # start or join the memory server, name a board
    seen = board.get("price/NR-1001")                 # an Entry with .value, .version, .seq — or None
    board.write("price/NR-1001", 199, expected=seen.version if seen else 0)   # refused if someone wrote since
    board.update("count", lambda n: (n or 0) + 1)     # read-modify-write that retries until it lands
    board.log(after=last_seq)                          # the ordered log: poll it, or replay it from 0
    board.stale({"price/NR-1001": seen})               # which of my reads are out of date now?

Why compare-and-set. Two agents that read version 3, compute, and write back both "succeed" with a plain
set, and one update is lost (lab 05 counts how many with a Dask `Variable`). Here a write names the
version it read; if another write landed first, it is refused as "stale" and the writer reads again.

Polling and stale reads. Each write gets the next `seq` of the board's log, so "what is new since I
last looked" is `log(after=seq)`, and `wait_for(after)` polls until something is (there is no push:
polling a log is simple and survives the server's restart). An agent that reads, thinks for a while and
acts can ask `stale(reads)` before acting: it lists the keys whose version moved since it read them.

Durability. The board is its log in SQLite behind the memory server (`agentlab.memory.server`); a write
is acknowledged only after its commit, so killing the server's process loses no acknowledged write.
Writes carry a `write_id` (made up if not given), so a write retried after its reply was lost lands once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from distributed import Client

from agentlab.errors import UsageError
from agentlab.memory.server import ServerHandle
from agentlab.memory.values import Entry, Fence, StaleRead, WriteResult

__all__ = ["Blackboard", "replay"]


class Blackboard:
    """One named board on a memory server; picklable, so tasks on any worker can carry it."""

    def __init__(self, server: ServerHandle, name: str, writer: str = "") -> None:
        self.server, self.name, self.writer = server, name, writer

    @classmethod
    def open(
        cls, client: Client, name: str, *, server: str = "agentlab", path: str | None = None, worker: str | None = None
    ) -> Blackboard:
        """The board `name` on the cluster's memory server `server`, started on `worker` if not running.

        `path` is the server's SQLite file on that worker's host (default: the journal's file there).
        """
        return cls(ServerHandle.start(client, server, path=path, worker=worker), name)

    @classmethod
    def local(cls, path: str, name: str) -> Blackboard:
        """The board `name` in the SQLite file at `path`, served in this process (no cluster needed)."""
        return cls(ServerHandle.local(path), name)

    def as_writer(self, writer: str) -> Blackboard:
        """The same board, signing its writes as `writer` (an agent or a sub-task)."""
        return Blackboard(self.server, self.name, writer)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.server.call(f"board.{method}", self.name, *args, **kwargs)

    def get(self, key: str) -> Entry | None:
        """The current entry of `key`, or None if it was never written."""
        entry: Entry | None = self._call("get", key)
        return entry

    def read(self, prefix: str = "") -> dict[str, Entry]:
        """The current entry of every key that starts with `prefix`."""
        entries: dict[str, Entry] = self._call("snapshot", prefix)
        return entries

    def write(
        self,
        key: str,
        value: Any,
        *,
        expected: int | None = None,
        fence: Fence | None = None,
        write_id: str | None = None,
    ) -> WriteResult:
        """Write `key = value` if its version is still `expected` (0: absent; None: write blindly).

        Refused writes come back with `ok=False` and the key's current entry, never as an exception.
        """
        write_id = write_id or uuid.uuid4().hex
        result: WriteResult = self._call(
            "write", key, value, expected=expected, fence=fence, write_id=write_id, writer=self.writer
        )
        return result

    def post(self, key: str, value: Any, *, write_id: str | None = None) -> WriteResult:
        """Post a finding under a new key; refused as "stale" if the key exists already."""
        return self.write(key, value, expected=0, write_id=write_id)

    def update(
        self, key: str, change: Callable[[Any], Any], *, attempts: int = 100, write_id: str | None = None
    ) -> WriteResult:
        """Read-modify-write done right: read, compute `change(value)`, compare-and-set; again if stale.

        `write_id` names the update (a retried task passes the same one). Every attempt carries it and
        only a write that lands records it, so once one attempt landed, any later one returns that write.
        """
        write_id = write_id or uuid.uuid4().hex
        result = WriteResult(False, None, "stale")
        for _ in range(attempts):
            current = self.get(key)
            value = change(current.value if current else None)
            result = self.write(key, value, expected=current.version if current else 0, write_id=write_id)
            if result.ok:
                return result
        return result

    def log(self, after: int = 0, limit: int = 1000) -> list[Entry]:
        """The writes after seq `after`, in order (`after=0`: the whole log, to replay)."""
        entries: list[Entry] = self._call("log", after, limit)
        return entries

    def last_seq(self) -> int:
        """The seq of the newest write (0 for an empty board)."""
        seq: int = self._call("last_seq")
        return seq

    def wait_for(
        self,
        after: int,
        timeout: float,
        *,
        poll: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> list[Entry]:
        """Poll until there are writes after seq `after` (returned) or `timeout` passes (empty list)."""
        deadline = clock() + timeout
        while True:
            entries = self.log(after)
            if entries or clock() >= deadline:
                return entries
            sleep(min(poll, max(deadline - clock(), 0.0)))

    def stale(self, reads: Mapping[str, Entry | int | None]) -> list[StaleRead]:
        """Which of these reads (key → the entry or version read; None: read as absent) are out of date."""
        versions: dict[str, int] = self._call("versions", list(reads))
        found = []
        for key, read in reads.items():
            seen = read.version if isinstance(read, Entry) else (read or 0)
            if versions[key] != seen:
                found.append(StaleRead(key, seen, versions[key]))
        return found

    def issue_token(self, resource: str) -> Fence:
        """A fencing token for `resource`, newer than every one before: take it when you take the lease."""
        if not resource:
            raise UsageError("a fencing token needs a resource name")
        fence: Fence = self._call("issue_token", resource)
        return fence

    def __repr__(self) -> str:
        return f"Blackboard({self.name!r} via {self.server!r})"


def replay(entries: Iterable[Entry]) -> dict[str, Entry]:
    """The board as the log says it is: the last entry of each key, replaying writes in seq order."""
    state: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        state[entry.key] = entry
    return state
