"""The command line: `agentlab demo` and `agentlab run "question"` (README).

agentlab demo                   the research question, offline, printed as a trace and an answer
agentlab run "question"         any question; a real model when --base-url / AGENTLAB_BASE_URL is set
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from agentlab.analysis import expected_turns
from agentlab.data import demo_question, kb_index
from agentlab.errors import AgentlabError
from agentlab.latency import Latency
from agentlab.loop import RunResult, run_agent
from agentlab.models import ChatModel, from_env, offline_model
from agentlab.retrieval import search_tool

__all__ = ["main"]


def _model(args: argparse.Namespace) -> ChatModel:
    if args.base_url or os.environ.get("AGENTLAB_BASE_URL"):
        key = os.environ.get(args.api_key_env) if args.api_key_env else None
        return from_env(args.base_url, args.model, key, seed=args.seed)
    latency = Latency("lognormal", mean=args.latency, sigma=0.4) if args.latency > 0 else Latency()
    return offline_model(seed=args.seed, q=args.q, latency=latency, cassette=args.cassette)


def _report(question: str, result: RunResult, elapsed: float, q: float | None) -> None:
    print(f"question : {question}\n")
    print(result.trace.table(), "\n")
    print(f"answer   : {result.answer}")
    print(f"stopped  : {result.stop_reason} after {result.turns} act-observe turn(s) in {elapsed:.2f} s")
    if q is not None:
        print(f"expected : E[T] = 1/q = {expected_turns(q):.2f} turns at q = {q}")


def _run(question: str, args: argparse.Namespace) -> RunResult:
    model = _model(args)
    start = time.perf_counter()
    result = run_agent(question, model=model, tools=[search_tool(kb_index())], max_turns=args.max_turns)
    offline = not (args.base_url or os.environ.get("AGENTLAB_BASE_URL"))
    _report(question, result, time.perf_counter() - start, args.q if offline else None)
    return result


def _demo(args: argparse.Namespace) -> int:
    question = demo_question()
    result = _run(question.question, args)
    verdict = "correct" if question.is_answered_by(result.answer) else "WRONG"
    print(f"truth    : {question.answer!r} -> {verdict}")
    return 0 if verdict == "correct" else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentlab", description=__doc__.splitlines()[0] if __doc__ else "")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in [("demo", "answer the demo research question offline"), ("run", "answer a question")]:
        p = sub.add_parser(name, help=helptext)
        if name == "run":
            p.add_argument("question")
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--q", type=float, default=0.7, help="offline model: per-turn success probability")
        p.add_argument("--latency", type=float, default=0.15, help="offline model: mean seconds per step")
        p.add_argument("--max-turns", type=int, default=8)
        p.add_argument("--cassette", help="offline model: record responses to this JSON-lines file")
        p.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: the offline model)")
        p.add_argument("--model", help="model name for --base-url (or AGENTLAB_MODEL)")
        p.add_argument("--api-key-env", help="name of the environment variable holding the API key")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        result = _run(args.question, args)
        return 0 if result.stop_reason == "answer" else 1
    except AgentlabError as exc:
        print(f"agentlab: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
