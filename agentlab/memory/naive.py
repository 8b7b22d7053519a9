"""Why the naive way fails: read-modify-write on a Dask `Variable` loses updates (lab 05).

N tasks on the cluster's workers each add 1 to a shared counter M times. With a `Variable` each
increment is `n = v.get(); ...; v.set(n + 1)`: two tasks that read the same n both write n + 1, and
one increment is lost — the Variable has no compare-and-set, and Dask's docstring says so ("race
conditions can occur"). With the blackboard each increment is `board.update(...)`, a compare-and-set
that is refused and retried when another write landed in between, so the count comes out exact.

`count_increments` runs either and reports expected, final and lost. The loss is a demonstration: how
many are lost depends on timing (the `pause` between read and write widens the window), so a test
asserts only the blackboard's exactness.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from distributed import Client, Variable

from agentlab.errors import UsageError, WriteRefused
from agentlab.memory.board import Blackboard

__all__ = ["Increments", "count_increments"]


@dataclass(frozen=True)
class Increments:
    """N tasks × M increments of one shared counter, and what the counter ended at."""

    way: str
    """"variable" (get then set) or "blackboard" (compare-and-set)."""
    tasks: int
    per_task: int
    final: int
    seconds: float

    @property
    def expected(self) -> int:
        return self.tasks * self.per_task

    @property
    def lost(self) -> int:
        """Increments that some task made and the counter does not show."""
        return self.expected - self.final


def _add_with_variable(name: str, times: int, pause: float) -> int:
    counter = Variable(name)
    for _ in range(times):
        n = counter.get()
        time.sleep(pause)  # the agent "thinks" between reading and writing
        counter.set(n + 1)
    return times


def _plus_one_after(pause: float) -> Callable[[int | None], int]:
    def plus_one(n: int | None) -> int:
        time.sleep(pause)
        return (n or 0) + 1

    return plus_one


def _add_with_board(board: Blackboard, key: str, task: int, times: int, pause: float) -> int:
    for i in range(times):
        # the write id names this increment, so a task Dask runs twice does not count twice
        result = board.update(key, _plus_one_after(pause), write_id=f"{key}/{task}/{i}", attempts=10_000)
        if not result.ok:
            raise WriteRefused(f"increment {task}/{i} never landed: {result.reason}")
    return times


def count_increments(
    client: Client,
    way: str,
    tasks: int = 8,
    per_task: int = 10,
    *,
    pause: float = 0.002,
    board: Blackboard | None = None,
) -> Increments:
    """Run `tasks` × `per_task` increments on the cluster, the `way` given; report the final count."""
    key = f"counter-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    if way == "variable":
        counter = Variable(key, client=client)
        counter.set(0)
        futures = client.map(_add_with_variable, [key] * tasks, [per_task] * tasks, [pause] * tasks, pure=False)
        client.gather(futures)
        final = int(counter.get())
        counter.delete()
    elif way == "blackboard":
        if board is None:
            raise UsageError("way='blackboard' needs a board")
        futures = [
            client.submit(_add_with_board, board, key, task, per_task, pause, pure=False) for task in range(tasks)
        ]
        client.gather(futures)
        entry = board.get(key)
        final = int(entry.value) if entry else 0
    else:
        raise UsageError(f"way is 'variable' or 'blackboard', not {way!r}")
    return Increments(way, tasks, per_task, final, time.perf_counter() - start)
