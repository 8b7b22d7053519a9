"""`agentlab mcp ...`, `agentlab a2a ...` and `agentlab run --mcp` (README, lab 06).

agentlab mcp list -- COMMAND [ARGS...]   list an MCP server's tools (or `mcp list URL` for streamable HTTP)
agentlab mcp serve [--http PORT]         serve agentlab's tools (KB search, prices, sandbox) over stdio or HTTP
agentlab a2a serve --port P              serve an agentlab research agent over A2A on 127.0.0.1:P
agentlab run "..." --mcp "COMMAND"       give the agent(s) an MCP server's tools too (repeatable; --approve NAME;
                                         --mcp-timeout SECONDS after a --mcp: that server's call timeout)
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from agentlab.errors import AgentlabError, ConfigError, UsageError
from agentlab.fanout.runners import AgentRunner, Runner
from agentlab.fanout.toolkit import Toolkit
from agentlab.models.base import Model

__all__ = ["MCP_TIMEOUT", "add_run_options", "main", "run_runner", "run_toolkit"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentlab", description="MCP and A2A: tools and agents over the network.")
    top = parser.add_subparsers(dest="protocol", required=True)
    mcp = top.add_parser("mcp", help="MCP: list a server's tools, or serve agentlab's").add_subparsers(
        dest="action", required=True
    )
    listing = mcp.add_parser("list", help="list the tools of an MCP server: mcp list -- COMMAND [ARGS...] | URL")
    listing.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the server")
    listing.add_argument("server", nargs=argparse.REMAINDER, help="the server's command (after --), or its URL")
    serve = mcp.add_parser("serve", help="serve agentlab's tools over stdio (default) or streamable HTTP")
    serve.add_argument("--http", type=int, metavar="PORT", help="serve http://127.0.0.1:PORT/mcp instead of stdio")
    serve.add_argument("--prices-url", help="the price API to use (default: start the catalog's on loopback)")
    a2a = top.add_parser("a2a", help="A2A: serve an agentlab agent").add_subparsers(dest="action", required=True)
    agent = a2a.add_parser("serve", help="serve a research agent over A2A on 127.0.0.1")
    agent.add_argument("--port", type=int, required=True)
    agent.add_argument("--name", default="researcher", help="the name on the agent card")
    agent.add_argument("--seed", type=int, default=7)
    agent.add_argument("--q", type=float, default=1.0, help="offline model: per-turn success probability")
    agent.add_argument("--latency", type=float, default=0.0, help="offline model: seconds per model step")
    return parser


def _server_from(words: Sequence[str], timeout: float) -> Any:
    from agentlab.protocols.mcp_client import McpServer  # noqa: PLC0415

    words = list(words[1:] if words[:1] == ["--"] else words)
    if not words:
        raise UsageError("give the server's command after --, or its URL: agentlab mcp list -- python server.py")
    target = words[0] if len(words) == 1 and words[0].startswith(("http://", "https://")) else shlex.join(words)
    return McpServer(target, timeout=timeout)


def _mcp_list(args: argparse.Namespace) -> int:
    from agentlab.protocols.mcp_client import close_sessions, describe, import_tools, session  # noqa: PLC0415

    server = _server_from(args.server, args.timeout)
    try:
        toolset = import_tools(server)
        name = session(server).label  # the server's own name, from its handshake
        print(f"{name}: {len(toolset.tools)} tool(s)\n{describe(toolset)}")
    finally:
        close_sessions()
    return 0


def _mcp_serve(args: argparse.Namespace) -> int:
    from agentlab.protocols.mcp_server import mcp_server, serve_http, serve_stdio, standard_tools  # noqa: PLC0415

    with ExitStack() as stack:
        server = mcp_server(standard_tools(stack, args.prices_url))
        if args.http is None:
            serve_stdio(server)
        else:
            print(f"serving agentlab's tools at http://127.0.0.1:{args.http}/mcp (Ctrl-C stops)", file=sys.stderr)
            serve_http(server, port=args.http)
    return 0


def _a2a_serve(args: argparse.Namespace) -> int:
    try:
        from agentlab.protocols.a2a_server import ResearchAgent, a2a_app, agent_card, serve  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError(f"A2A needs the a2a extra: pip install 'agentlab[a2a]' ({exc})") from exc
    from agentlab.latency import Latency  # noqa: PLC0415
    from agentlab.models.chat import offline_model  # noqa: PLC0415

    url = f"http://127.0.0.1:{args.port}/"
    model = offline_model(seed=args.seed, q=args.q, latency=Latency(mean=args.latency))
    app = a2a_app(agent_card(args.name, url), ResearchAgent(model))
    print(
        f"serving the A2A agent {args.name!r}: card at {url}.well-known/agent-card.json (Ctrl-C stops)", file=sys.stderr
    )
    serve(app, port=args.port)
    return 0


def main(argv: list[str]) -> int:
    """Run `agentlab mcp ...` / `agentlab a2a ...` (cli.main hands these over before its own parsing)."""
    args = _parser().parse_args(argv)
    try:
        if args.protocol == "mcp":
            return _mcp_list(args) if args.action == "list" else _mcp_serve(args)
        return _a2a_serve(args)
    except AgentlabError as exc:
        print(f"agentlab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# -- agentlab run --mcp ------------------------------------------------------------------------------


MCP_TIMEOUT = 10.0
"""Seconds an MCP call may take unless `--mcp-timeout` says otherwise."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"a timeout is a positive number of seconds, not {text!r}")
    return value


class _TimeoutFor(argparse.Action):
    """`--mcp-timeout S` applies to the `--mcp` just before it; before any `--mcp`, to every server."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, value: Any, option: Any = None) -> None:
        timeouts = dict(getattr(namespace, self.dest, None) or {})
        timeouts[len(getattr(namespace, "mcp", None) or []) - 1] = value  # -1: every server
        setattr(namespace, self.dest, timeouts)


def add_run_options(run: argparse.ArgumentParser) -> None:
    """`--mcp COMMAND`, `--mcp-timeout SECONDS` and `--approve TOOL` (each repeatable) on `agentlab run`."""
    run.add_argument("--mcp", action="append", default=[], metavar="COMMAND", help="add an MCP server's tools")
    run.add_argument(
        "--mcp-timeout",
        action=_TimeoutFor,
        type=_seconds,
        default={},
        metavar="SECONDS",
        help=f"call timeout of the --mcp server given just before (first: of all servers; default {MCP_TIMEOUT:g})",
    )
    run.add_argument("--approve", action="append", default=[], metavar="TOOL", help="approve an imported tool")


def _servers(args: argparse.Namespace) -> tuple[Any, ...]:
    from agentlab.protocols.mcp_client import McpServer  # noqa: PLC0415

    approve = frozenset(getattr(args, "approve", []))
    timeouts: dict[int, float] = getattr(args, "mcp_timeout", None) or {}
    every = timeouts.get(-1, MCP_TIMEOUT)
    return tuple(
        McpServer(target, approve=approve, timeout=timeouts.get(i, every)) for i, target in enumerate(_mcp(args))
    )


def _mcp(args: argparse.Namespace) -> list[str]:
    """The --mcp servers given; `agentlab demo` has no such option, so none."""
    return list(getattr(args, "mcp", None) or [])


def run_toolkit(args: argparse.Namespace, base: Toolkit | None = None) -> Toolkit:
    """The agents' toolkit: `base` (default: the built-in one), plus the MCP servers' tools under their contracts."""
    base = base or Toolkit()
    if not _mcp(args):
        return base
    from agentlab.protocols.mcp_toolkit import McpToolkit  # noqa: PLC0415  (imports the MCP SDK)

    approve = frozenset(getattr(args, "approve", []))
    servers = _servers(args)
    return McpToolkit(
        extra=base.extra, extra_roles=base.extra_roles, policies=base.policies, servers=servers, approve=approve
    )


def run_runner(args: argparse.Namespace, model: Model, base: Toolkit | None = None) -> Runner | None:
    """The fan-out's runner when MCP servers or a `base` toolkit are given (None: the supervisor's default)."""
    return AgentRunner(model, toolkit=run_toolkit(args, base)) if _mcp(args) or base is not None else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
