"""A strict stdio transport: a server that writes anything but MCP on stdout is answered at once (lab 06).

Over stdio, the server's stdout *is* the wire: every line must be a JSON-RPC message. A server that
prints a banner, a debug line or a half-written reply breaks that. The SDK's own transport logs the bad
line with a traceback and skips it, so the request it answered waits for its timeout and the user sees
a stack trace, then "did not answer" — the wrong story, told late.

`strict_stdio` wraps the SDK's transport: the first line that is not valid JSON-RPC is recorded in
`Garbage` and the connection is closed, so every request still waiting fails at once (the client says
"not valid MCP" and quotes the line), and the next call starts a fresh server. The SDK's parse-error
log records are dropped (`quiet_parse_errors`); the story is told once, in agentlab's words.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TextIO

import anyio
import pydantic
from mcp import StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.message import SessionMessage

__all__ = ["Garbage", "quiet_parse_errors", "strict_stdio"]

_PARSE_ERROR = "Failed to parse JSONRPC message from server"


@dataclass
class Garbage:
    """What a server wrote on stdout that is not MCP (empty while it has written none)."""

    lines: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"wrote {self.lines[0]!r} on stdout, which is not valid MCP (JSON-RPC)" if self.lines else ""


def _offending(error: Exception) -> str:
    """The line that failed to parse, as far as the error tells it (short)."""
    if isinstance(error, pydantic.ValidationError) and error.errors():
        return str(error.errors()[0].get("input", ""))[:120]
    return str(error)[:120]


class _DropParseErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _PARSE_ERROR


def quiet_parse_errors() -> None:
    """Drop the SDK's traceback log for a bad stdout line (`strict_stdio` reports it instead). Idempotent."""
    log = logging.getLogger("mcp.client.stdio")
    if not any(isinstance(f, _DropParseErrors) for f in log.filters):
        log.addFilter(_DropParseErrors())


@asynccontextmanager
async def strict_stdio(
    params: StdioServerParameters, errlog: TextIO, garbage: Garbage
) -> AsyncIterator[tuple[anyio.abc.ObjectReceiveStream[SessionMessage | Exception], object]]:
    """The SDK's stdio transport, closed at the first line that is not JSON-RPC (recorded in `garbage`)."""
    async with stdio_client(params, errlog=errlog) as (read, write):
        send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def pump() -> None:
            async with send:  # closing it ends the session's reading: pending requests fail now
                async for item in read:
                    if isinstance(item, Exception):
                        garbage.lines.append(_offending(item))
                        return
                    await send.send(item)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(pump)
            try:
                yield receive, write
            finally:
                tasks.cancel_scope.cancel()
