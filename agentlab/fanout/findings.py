"""A shared findings board as the supervisor sees it: post what sub-tasks found, read what others posted
(labs 03, 05).

Any store with `post(key, value, write_id=)` and `read(prefix)` will do; `agentlab.memory.Blackboard` is the
real one (versioned, compare-and-set, recoverable). With a board, the supervisor posts each sub-task's finding
under `finding/<run id>/<sub-task id>` — once, whatever re-runs, because the write carries the sub-task's
journal key — and its reduce step reads, beside its own sub-tasks' results, every finding *others* posted
under `finding/` (executors through the `post_finding` tool, or other runs). Findings are read in key order,
so a resumed run asks its reduce step the same question and replays the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from agentlab.events import Observer, RoundEvent
from agentlab.identity import identify

__all__ = ["FindingsBoard", "board_rows", "poster"]

PREFIX = "finding/"


class FindingsBoard(Protocol):
    def post(self, key: str, value: Any, *, write_id: str | None = None) -> Any: ...
    def read(self, prefix: str = "") -> Mapping[str, Any]: ...


def poster(board: FindingsBoard, run_id: str) -> Observer:
    """An observer that posts each sub-task's finding as it settles (failures are not findings)."""

    def post(event: RoundEvent) -> None:
        if event.kind == "done" and event.result is not None:
            step = event.step or identify(run_id, event.task)
            board.post(f"{PREFIX}{run_id}/{event.task.id}", event.result.value, write_id=step.journal)

    return post


def board_rows(board: FindingsBoard, run_id: str) -> list[tuple[str, str, str, str, str]]:
    """What others posted, as findings rows (id, role, state, goal, text) for the reduce step, in key order."""
    own = f"{PREFIX}{run_id}/"
    found = board.read(PREFIX)
    return [
        (key, "board", "done", "", str(getattr(entry, "value", entry)))
        for key, entry in sorted(found.items())
        if not key.startswith(own)
    ]
