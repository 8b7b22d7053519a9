"""The values the shared memory hands out: board entries, write outcomes, stale reads (lab 05).

Plain frozen dataclasses, so they pickle between Dask workers and print well in a notebook. A board
`Entry` carries the `version` of its key (1, 2, 3, … per key) and the `seq` of the write in the board's
ordered log (1, 2, 3, … per board): the version is what compare-and-set checks, the seq is what replay
and polling follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Entry", "Fence", "StaleRead", "WriteResult"]


@dataclass(frozen=True)
class Entry:
    """One write on the board: `key` became `value` at `version`, as the `seq`-th write of the log."""

    key: str
    value: Any
    version: int
    seq: int
    writer: str = ""
    """Who wrote it (an agent or sub-task name), for people reading the log."""
    created: float = 0.0


@dataclass(frozen=True)
class Fence:
    """A fencing token: the `token`-th holder of the lease on `resource` (higher is newer)."""

    resource: str
    token: int


@dataclass(frozen=True)
class WriteResult:
    """What happened to a write. Only `ok` writes are acknowledged: they are in the log, on disk."""

    ok: bool
    entry: Entry | None
    """The entry written (ok), or the key's current entry (refused; None if the key is absent)."""
    reason: str = ""
    """Why it was refused: "stale" (the version read is no longer current) or "fenced" (an older token)."""
    replayed: bool = False
    """True when this `write_id` was seen before: the first outcome is returned, nothing is written twice."""


@dataclass(frozen=True)
class StaleRead:
    """A key an agent read at `read_version` that has since moved on to `current_version`."""

    key: str
    read_version: int
    current_version: int
