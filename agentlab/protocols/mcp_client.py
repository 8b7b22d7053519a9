"""The MCP client: any server's tools imported as agentlab tools, one session per process (lab 06).

    server = McpServer("python my_server.py")            # or McpServer("http://127.0.0.1:8000/mcp")
    toolset = import_tools(server)                       # list the tools, convert them (mcp_tools)
    box = toolset.toolbox(native_tools)                  # a GuardedToolbox: contracts + approvals

`McpServer` is a small picklable *recipe* (a command or a URL, timeouts, an allowlist); the connection it
names is opened where the tools run — on the Dask worker — and kept for the life of that process:
`session(server)` returns the process's one live session to it, opening it on first use. The MCP SDK is
async; each session runs on its own event-loop thread, and tool calls (sync, on the toolbox's threads)
are handed to that loop and waited for with a timeout.

A server is named by its own name (`serverInfo.name` from the handshake) unless `McpServer.name` says
otherwise. What can go wrong is said in agentlab's words:

    the server does not start / does not answer the handshake   ServiceError(retryable)
    the server dies mid-call (or its connection drops)           ServiceError(retryable), "died mid-call";
                                                                 the next call starts a fresh session
    it cannot be started again after that                        ServiceError(retryable), "could not be
                                                                 restarted" (not "could not start")
    no reply within the server's timeout                         ToolTimeout; the request is cancelled
    a line on stdout that is not JSON-RPC                        ServiceError at once, "not valid MCP"
                                                                 (`mcp_transport`); a fresh server next
    a reply that is not valid MCP, a JSON-RPC error              ServiceError (not retryable)
    the tool ran and reported is_error                           ToolFailed (see mcp_tools)

Whether an error is retried is the tool's contract, decided from its annotations (`mcp_tools.contract`)
and carried out by `GuardedToolbox`: a read-only or idempotent tool is retried after a dropped connection
or a dead server, never after a timeout (the next attempt would wait as long again). Every call asks for
progress (`mcp_progress`) and forwards the call's idempotency key in `_meta` (`IDEMPOTENCY_META`), which
agentlab's own server deduplicates on. Tools that *require* MCP Tasks are left out, with a note
(`McpToolset.left_out`). Left out: sampling, elicitation and roots (a server that asks for them gets an
error), tasks, resources, prompts, OAuth.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import contextvars
import io
import os
import shlex
import sys
import threading
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

import mcp_types
import pydantic
from mcp import Client, MCPError, StdioServerParameters

from agentlab.agent.tools import Tool
from agentlab.errors import ConfigError, ServiceError, ToolTimeout
from agentlab.protocols.mcp_progress import heard
from agentlab.protocols.mcp_tools import (
    IDEMPOTENCY_META,
    McpTool,
    approved_names,
    contract,
    needs_task_mode,
    public_name,
    to_tool,
)
from agentlab.protocols.mcp_transport import Garbage, quiet_parse_errors, strict_stdio
from agentlab.rpc.contract import ToolPolicy
from agentlab.rpc.guarded import GuardedToolbox, current_call, idempotency_key

__all__ = [
    "McpServer",
    "McpToolset",
    "call_tool",
    "close_sessions",
    "describe",
    "import_tools",
    "list_tools",
    "session",
]

T = TypeVar("T")


@dataclass(frozen=True)
class McpServer:
    """Where an MCP server is and how to treat it: a recipe, safe to pickle to a worker."""

    target: str
    """A shell-style command ("python server.py --flag"), started as a subprocess over stdio, or an
    http(s) URL of a streamable-HTTP endpoint (".../mcp")."""
    name: str = ""
    """A short label for traces and name clashes (default: from the command or URL)."""
    timeout: float = 10.0
    """Seconds to wait for one call before giving up on it (and cancelling it on the server); on the
    command line, `agentlab run --mcp COMMAND --mcp-timeout SECONDS`."""
    startup: float = 30.0
    """Seconds to wait for the server to start and answer the handshake (a cold Python server takes a few)."""
    approve: frozenset[str] = frozenset()
    """Tools (server or public names, or "*") allowed without approval although destructive or not idempotent."""
    env: tuple[tuple[str, str], ...] = ()
    """Extra environment variables for a stdio server (it otherwise gets only PATH, HOME and the like)."""

    @property
    def is_http(self) -> bool:
        return self.target.startswith(("http://", "https://"))

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.is_http:
            return public_name(self.target.split("//", 1)[1].split("/", 1)[0].replace(":", "_"))
        words = [w for w in shlex.split(self.target) if not w.startswith("-")]
        return public_name(words[-1].rsplit("/", 1)[-1].removesuffix(".py")) if words else "mcp"

    def transport(self, garbage: Garbage) -> Any:
        """What `mcp.Client` connects to: the URL, or a strict stdio transport that starts the command."""
        if self.is_http:
            return self.target
        argv = shlex.split(self.target)
        if not argv:
            raise ConfigError("an MCP server command cannot be empty")
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=dict(self.env) or None)
        return strict_stdio(params, _errlog(), garbage)


def _errlog() -> TextIO:
    """Where a stdio server's stderr goes: ours if it is a real file (a notebook's is not), else nowhere."""
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.fileno()
                return stream
        except (OSError, ValueError, AttributeError):
            continue
    return open(os.devnull, "w")


class _Session:
    """One live client session, owned by a task on a private event loop (anyio scopes stay in one task)."""

    def __init__(self, server: McpServer, *, restart: bool = False) -> None:
        self.server = server
        self.garbage = Garbage()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"mcp:{server.label}", daemon=True)
        self._thread.start()
        self._ready: concurrent.futures.Future[Client] = concurrent.futures.Future()
        self._closing = asyncio.Event()
        self._owner = asyncio.run_coroutine_threadsafe(self._own(), self.loop)
        self.alive = True
        start = "died and could not be restarted" if restart else "could not be started"
        try:
            self.client = self._ready.result(timeout=server.startup)
        except concurrent.futures.TimeoutError as exc:
            self.close()
            raise ServiceError(
                f"the MCP server {server.label} {start}: no answer to its handshake within {server.startup:g} s",
                retryable=True,
            ) from exc
        except Exception as exc:
            self.close()
            why = self.garbage.describe() or _why(exc)
            raise ServiceError(f"the MCP server {server.label} {start}: {why}", retryable=True) from exc

    @property
    def label(self) -> str:
        """The server's name: the one given, else the one it gave in its handshake, else from its command."""
        if self.server.name:
            return self.server.name
        client: Client | None = getattr(self, "client", None)  # set once the handshake is done
        info = client.server_info if client is not None else None
        return public_name(info.name) if info is not None and info.name else self.server.label

    async def _own(self) -> None:
        try:
            async with Client(self.server.transport(self.garbage)) as client:
                self._ready.set_result(client)
                await self._closing.wait()
        except BaseException as exc:  # the session ended (the server died, or the handshake failed)
            if not self._ready.done():
                self._ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            raise
        finally:
            self.alive = False

    def run(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        """Run `coro` on the session's loop; waits at most the server's timeout."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout=self.server.timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()  # cancelling the awaiting task cancels the request on the server too
            raise ToolTimeout(
                f"{what}: the MCP server {self.label} did not answer within {self.server.timeout:g} s"
            ) from exc
        except MCPError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                raise ToolTimeout(f"{what}: {exc}") from exc
            if exc.code == mcp_types.CONNECTION_CLOSED:
                raise self._lost(what, "the connection closed") from exc
            raise ServiceError(f"{what}: the MCP server {self.label} answered with an error: {exc}") from exc
        except pydantic.ValidationError as exc:
            raise ServiceError(
                f"{what}: the MCP server {self.label} sent a reply that is not valid MCP "
                f"({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']})"
            ) from exc
        except Exception as exc:  # a dead pipe, a dropped connection: a new session may help
            raise self._lost(what, _why(exc)) from exc

    def _lost(self, what: str, why: str) -> ServiceError:
        """The session is gone mid-call: the server wrote garbage (not retryable) or died (retryable)."""
        self.alive = False  # the next call starts a fresh session
        if self.garbage.lines:
            return ServiceError(f"{what}: the MCP server {self.label} {self.garbage.describe()}")
        return ServiceError(f"{what}: the MCP server {self.label} died mid-call ({why})", retryable=True)

    def _owner_alive(self) -> bool:
        if self._owner.done():
            self.alive = False
        return self.alive

    def close(self) -> None:
        self.alive = False
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self._closing.set)
            with contextlib.suppress(BaseException):
                self._owner.result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def _why(exc: BaseException) -> str:
    """A one-line reason, looking inside exception groups (anyio task groups raise those)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_SESSIONS: dict[McpServer, _Session] = {}
_LOCK = threading.Lock()
quiet_parse_errors()  # a bad stdout line is reported by the session, once, without the SDK's traceback


def session(server: McpServer) -> _Session:
    """This process's live session to `server`, opened (or reopened after a failure) on first use."""
    with _LOCK:
        current = _SESSIONS.get(server)
        if current is not None and current._owner_alive():
            return current
        if current is not None:
            current.close()
        _SESSIONS[server] = opened = _Session(server, restart=current is not None)
        return opened


def close_sessions() -> None:
    """Close every session of this process (their stdio servers exit with them)."""
    with _LOCK:
        sessions = list(_SESSIONS.values())
        _SESSIONS.clear()
    for s in sessions:
        s.close()


atexit.register(close_sessions)


def call_tool(server: McpServer, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
    """One `tools/call` on this process's session to `server` (a failed session is replaced next time).

    It asks for progress (each notification becomes a trace row and a live event: `mcp_progress`) and
    forwards the guarded call's idempotency key in `_meta`, when it runs inside one."""
    live = session(server)
    call, key = current_call(), idempotency_key()
    here = contextvars.copy_context()  # the progress callback runs on the session's loop: keep our worker

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        here.run(heard, live.label, name, call, progress, total, message or "")

    meta: Any = {IDEMPOTENCY_META: key} if key else None
    request = live.client.call_tool(name, arguments, progress_callback=progress, meta=meta)
    return live.run(request, f"{name} on {live.label}")


def list_tools(server: McpServer) -> list[mcp_types.Tool]:
    """Every tool the server lists (following pagination)."""
    live = session(server)
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    while True:
        page = live.run(live.client.list_tools(cursor=cursor), f"tools/list on {live.label}")
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


@dataclass
class McpToolset:
    """The tools imported from some MCP servers, with each one's contract and the approvals they need."""

    tools: list[McpTool]
    policies: dict[str, ToolPolicy]
    approved: set[str]
    """Imported tools that may be called without asking (read-only/idempotent, or allowlisted)."""
    servers: list[McpServer] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    """Listed tools not offered to the model, with why (a tool that requires MCP Tasks)."""

    @property
    def needs_approval(self) -> list[str]:
        return [t.name for t in self.tools if t.name not in self.approved]

    def toolbox(
        self, native: Sequence[Tool] = (), *, approve: Collection[str] = (), run_id: str = "run", path: str = ""
    ) -> GuardedToolbox:
        """A guarded toolbox of `native` tools plus these; `approve` adds approvals (by public name)."""
        approved = {t.name for t in native} | self.approved | set(approve)
        return GuardedToolbox([*native, *self.tools], self.policies, approved=approved, run_id=run_id, path=path)


def import_tools(
    servers: McpServer | Sequence[McpServer], *, base: ToolPolicy | None = None, taken: Collection[str] = ()
) -> McpToolset:
    """List each server's tools and convert them; a name already taken gets the server's label as prefix."""
    servers = [servers] if isinstance(servers, McpServer) else list(servers)
    tools: list[McpTool] = []
    policies: dict[str, ToolPolicy] = {}
    used = set(taken)
    approved: set[str] = set()
    left_out: dict[str, str] = {}
    for server in servers:
        listing = list_tools(server)
        label = session(server).label
        # the session's own timeout (which cancels the request on the server) fires before the toolbox's
        base_policy = base or ToolPolicy(timeout=server.timeout + 5.0, service=f"mcp:{label}")

        def call(name: str, arguments: dict[str, Any], server: McpServer = server) -> mcp_types.CallToolResult:
            return call_tool(server, name, arguments)

        mine: list[McpTool] = []
        for listed in listing:
            if needs_task_mode(listed):
                left_out[f"{label}/{listed.name}"] = (
                    "requires MCP Tasks (taskSupport: required), which agentlab does not run"
                )
                continue
            name = public_name(listed.name)
            if name in used:
                name = public_name(listed.name, prefix=f"{label}_")
            used.add(name)
            mine.append(to_tool(listed, call, server=label, name=name))
            policies[name] = contract(listed.annotations, base_policy)[0]
        tools.extend(mine)
        approved |= approved_names(mine, ToolPolicy(), server.approve)
    return McpToolset(tools, policies, approved, servers, left_out)


def describe(toolset: McpToolset) -> str:
    """A plain-text listing: name, contract, description (what `agentlab mcp list` prints)."""
    out = io.StringIO()
    for t in toolset.tools:
        policy = toolset.policies[t.name]
        kind = "read-only" if t.annotations and t.annotations.read_only_hint else "effects"
        retry = f"retry x{policy.retry.attempts}" if policy.retry.attempts > 1 else "no retry"
        ask = "approval needed" if t.name not in toolset.approved else "allowed"
        args = ", ".join(t.parameters.get("properties", {}))
        print(f"{t.name}({args})  [{kind}; {retry}; {ask}]\n    {t.description.strip().splitlines()[0]}", file=out)
    for name, why in toolset.left_out.items():
        print(f"{name}  [left out: {why}]", file=out)
    return out.getvalue().rstrip() or "(the server lists no tools)"
