"""Small workloads that run on the cluster's workers against shared memory (lab 05, tests, benchmark).

They live in the package, not in a notebook or a test file, because Dask's scheduler and workers must be
able to import every function a task names.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from distributed import Queue, Variable

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import Tool
from agentlab.errors import WriteRefused
from agentlab.memory.board import Blackboard
from agentlab.models.base import Model

__all__ = [
    "agent_outcome",
    "post_findings",
    "queue_puts",
    "timed_board_reads",
    "timed_board_writes",
    "variable_sets",
]


def agent_outcome(goal: str, model: Model, tools: Sequence[Tool], max_turns: int = 8) -> dict[str, object]:
    """Run one ReAct agent here; how it ended and in which process (a trace holds a lock: it stays here)."""
    result = run_agent(goal, model=model, tools=tools, max_turns=max_turns)
    return {"stop_reason": result.stop_reason, "answer": result.answer, "turns": result.turns, "pid": os.getpid()}


def post_findings(board: Blackboard, writer: int, count: int, pause: float = 0.01) -> list[tuple[str, int, int]]:
    """Post `count` findings as `writer`; (key, version, seq) of each one the board acknowledged.

    Each post's write id is its key, so when Dask runs this task again (a worker died) nothing doubles.
    """
    acked = []
    for i in range(count):
        key = f"w{writer}/{i}"
        result = board.post(key, i, write_id=key)
        if not result.ok or result.entry is None:
            raise WriteRefused(f"post {key} refused: {result.reason}")
        acked.append((key, result.entry.version, result.entry.seq))
        time.sleep(pause)
    return acked


def timed_board_writes(board: Blackboard, writer: int, count: int) -> list[float]:
    """Seconds each of `count` blind writes took."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        board.write(f"bench/{writer}", i)
        times.append(time.perf_counter() - start)
    return times


def timed_board_reads(board: Blackboard, writer: int, count: int) -> list[float]:
    """Seconds each of `count` reads of one key took."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        board.get(f"bench/{writer}")
        times.append(time.perf_counter() - start)
    return times


def variable_sets(name: str, count: int, read: bool = False) -> list[float]:
    """Seconds each of `count` `Variable.set` (or `.get`, with `read`) calls took."""
    variable, times = Variable(name), []
    for i in range(count):
        start = time.perf_counter()
        variable.get() if read else variable.set(i)
        times.append(time.perf_counter() - start)
    return times


def queue_puts(name: str, count: int) -> list[float]:
    """Seconds each of `count` `Queue.put` calls took."""
    queue, times = Queue(name), []
    for i in range(count):
        start = time.perf_counter()
        queue.put(i)
        times.append(time.perf_counter() - start)
    return times
