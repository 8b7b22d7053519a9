"""Progress of long MCP tool calls: asked for on every call, shown in the trace and the live view (lab 06).

Every `tools/call` agentlab sends carries a progress token (the SDK's `progress_callback`). A server that
reports progress (`notifications/progress`: a number, maybe a total, maybe a message) is heard three ways:

    the trace       a "progress" row on the call (`rpc:<tool>`, outcome "progress"), via `current_call()`
    the live view   on a Dask worker, a `TOPIC` event; `follow(client, observer)` turns each into a
                    `RoundEvent("remote", ...)`, which `LiveProgress` shows in the sub-task's row
    the caller      `Progress` values, for your own code

Progress says a call is alive; it does not extend its timeout (a server could otherwise stall forever
by reporting 0 % every second). Servers that send no progress simply add no rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from distributed import Client, get_worker

from agentlab.events import Observer, RemoteUpdate, RoundEvent
from agentlab.rpc.guarded import CurrentCall
from agentlab.steps import SubTask

__all__ = ["TOPIC", "Progress", "follow", "heard"]

TOPIC = "agentlab.mcp.progress"
"""The Dask event topic on which tool calls on the workers publish their servers' progress."""


@dataclass(frozen=True)
class Progress:
    """One progress notification from an MCP server about one call."""

    server: str
    tool: str
    progress: float
    total: float | None
    message: str
    at: float

    @property
    def text(self) -> str:
        """ "3/10 copying files", "40%", "12 rows": as much as the server said."""
        done = f"{self.progress:g}/{self.total:g}" if self.total else f"{self.progress:g}"
        return f"{done} {self.message}".strip()


def heard(
    server: str, tool: str, call: CurrentCall | None, progress: float, total: float | None, message: str
) -> Progress:
    """Record one notification: a trace row on the current call, and a live event when on a Dask worker."""
    note = Progress(server, tool, progress, total, message or "", time.time())
    if call is not None:
        call.progress(f"mcp:{server} {note.text}")
        _publish(call, note)
    return note


def _publish(call: CurrentCall, note: Progress) -> None:
    try:
        worker = get_worker()
    except ValueError:
        return  # not on a worker: the trace row is all there is to tell
    event = {"run_id": call.run_id, "task": call.label, "server": note.server, "tool": note.tool, "at": note.at}
    worker.log_event(TOPIC, {**event, "text": note.text[:200]})


def follow(client: Client, observer: Observer, run_id: str | None = None) -> None:
    """Pass the progress of MCP calls on the workers to `observer` as `RoundEvent("remote", ...)` values
    (the agent is "mcp:<server>", the state "progress"); only calls of `run_id` when it is given."""

    def handler(event: tuple[float, dict[str, Any]]) -> None:
        message = event[1]
        if run_id is not None and message.get("run_id") != run_id:
            return
        update = RemoteUpdate(
            f"mcp:{message['server']}", "progress", f"{message['tool']}: {message['text']}", message["at"]
        )
        observer(RoundEvent("remote", SubTask(str(message["task"]), ""), remote=update))

    client.subscribe_topic(TOPIC, handler)
