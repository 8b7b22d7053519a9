"""The command line (README).

agentlab demo                a research goal fanned out by a supervisor on a local Dask cluster, offline
agentlab run "question"      any question: fanned out, or one agent with --single; a real model with
                             --base-url / AGENTLAB_BASE_URL, a remote cluster with --address
agentlab fanout              Code 40.6.2: the course's six lines, then the same plan run on the cluster
agentlab run ... --run-id ID journal the run; the same id again resumes it (after a crash, say)
agentlab runs [--show ID]    the journaled runs, or one run's steps
agentlab grade [NOTEBOOK...] grade exercise notebooks (labs/README.md); agentlab student: regenerate them
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd

from agentlab.analysis import expected_turns
from agentlab.cluster import connect, describe
from agentlab.data import demo_goal, kb_index
from agentlab.errors import AgentlabError
from agentlab.journal import run_frame, runs_frame
from agentlab.journal_sqlite import SqliteJournal, default_path
from agentlab.latency import Latency
from agentlab.loop import run_agent
from agentlab.models import ChatModel, from_env, offline_model
from agentlab.retrieval import search_tool
from agentlab.seedplan import report, run_on_cluster, seed_plan
from agentlab.supervisor import FanOutResult, Supervisor

__all__ = ["main"]


def _real(args: argparse.Namespace) -> bool:
    return bool(args.base_url or os.environ.get("AGENTLAB_BASE_URL"))


def _model(args: argparse.Namespace) -> ChatModel:
    if _real(args):
        key = os.environ.get(args.api_key_env) if args.api_key_env else None
        return from_env(args.base_url, args.model, key, seed=args.seed)
    latency = Latency("lognormal", mean=args.latency, sigma=0.4) if args.latency > 0 else Latency()
    return offline_model(seed=args.seed, q=args.q, latency=latency, cassette=args.cassette)


def _single(question: str, args: argparse.Namespace) -> int:
    """One ReAct agent, no cluster: the trace, the answer, and E[T] = 1/q beside the turns it took."""
    start = time.perf_counter()
    result = run_agent(question, model=_model(args), tools=[search_tool(kb_index())], max_turns=args.max_turns)
    print(f"question : {question}\n\n{result.trace.table()}\n")
    print(f"answer   : {result.answer}")
    print(
        f"stopped  : {result.stop_reason} after {result.turns} act-observe turn(s) "
        f"in {time.perf_counter() - start:.2f} s"
    )
    if not _real(args):
        print(f"expected : E[T] = 1/q = {expected_turns(args.q):.2f} turns at q = {args.q}")
    return 0 if result.stop_reason == "answer" else 1


def _fan_out(goal: str, args: argparse.Namespace) -> FanOutResult:
    """The supervisor on the cluster: plan, per-sub-task timeline, answer, speedups.

    With --run-id the run is journaled; running the same id again resumes it, skipping finished steps.
    """
    run_id = getattr(args, "run_id", None)
    journal = SqliteJournal(args.journal) if run_id else None
    try:
        with connect(args.address) as client:
            print(f"cluster  : {describe(client)}")
            if journal is not None:
                print(f"journal  : {journal.path} (run {run_id})")
            result = Supervisor(client, _model(args), journal=journal).run(goal, run_id=run_id)
    finally:
        if journal is not None:
            journal.close()
    print(f"goal     : {goal}\n\nplan (round 1):\n{result.plans[0].describe()}\n")
    print(f"timeline (seconds since the run began):\n{result.timeline()}\n")
    print(f"answer   : {result.answer}\n")
    print(result.summary())
    return result


def _demo(args: argparse.Namespace) -> int:
    goal, truths = demo_goal()
    result = _fan_out(goal, args)
    missing = [q.answer for q in truths if not q.is_answered_by(result.answer)]
    verdict = "correct" if not missing and result.stop_reason == "finished" else f"WRONG (missing {missing})"
    print(f"truth    : {', '.join(repr(q.answer) for q in truths)} -> {verdict}")
    return 0 if verdict == "correct" else 1


def _runs(args: argparse.Namespace) -> int:
    """List the journaled runs, or show one run's steps."""
    with SqliteJournal(args.journal) as journal:
        frame = run_frame(journal, args.show) if args.show else runs_frame(journal)
    if len(frame):
        frame["created"] = pd.to_datetime(frame["created"], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
    print(frame.to_string(index=False) if len(frame) else "(no runs recorded)")
    return 0


def _seed(args: argparse.Namespace) -> int:
    plan = seed_plan(args.seed_value, args.n)
    print(report(plan))
    with connect(args.address) as client:
        run_on_cluster(client, plan)  # once to warm the workers, as any second run would be
        run = run_on_cluster(client, plan)
    print(f"\n{run.summary()}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentlab", description="Distributed agent orchestration, offline first.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fan a research goal out on a local cluster (offline)")
    run = sub.add_parser("run", help="answer a question")
    run.add_argument("question")
    run.add_argument("--single", action="store_true", help="one agent loop, no cluster")
    for p in (demo, run):
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--q", type=float, default=0.7, help="offline model: per-turn success probability")
        p.add_argument("--latency", type=float, default=0.1, help="offline model: mean seconds per step")
        p.add_argument("--max-turns", type=int, default=8)
        p.add_argument("--cassette", help="offline model: record responses to this JSON-lines file")
        p.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: the offline model)")
        p.add_argument("--model", help="model name for --base-url (or AGENTLAB_MODEL)")
        p.add_argument("--api-key-env", help="name of the environment variable holding the API key")
    fanout = sub.add_parser("fanout", help="Code 40.6.2: the seed's plan, analysed and run on the cluster")
    fanout.add_argument("--seed", dest="seed_value", type=int, default=7)
    fanout.add_argument("--n", type=int, default=8)
    for p in (demo, run, fanout):
        p.add_argument("--address", help="a Dask scheduler (default: $DASK_SCHEDULER_ADDRESS or a local cluster)")
    run.add_argument("--run-id", help="journal the run under this id; the same id again resumes it")
    runs = sub.add_parser("runs", help="list journaled runs (or --show RUN_ID for one run's steps)")
    runs.add_argument("--show", metavar="RUN_ID")
    sub.add_parser("grade", help="grade exercise notebooks (see labs/README.md; needs the labs extra)")
    sub.add_parser("student", help="regenerate the student notebooks from the instructor sources")
    for p in (run, runs):
        p.add_argument("--journal", default=default_path(), help="the journal file (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["grade"], ["student"]):
        # grading needs pytest and nbformat (the labs/dev extras), so it is imported only when asked for
        from agentlab.grading import cli as grading  # noqa: PLC0415

        return int(grading.main(argv))
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "fanout":
            return _seed(args)
        if args.command == "runs":
            return _runs(args)
        if args.single:
            return _single(args.question, args)
        return 0 if _fan_out(args.question, args).stop_reason == "finished" else 1
    except AgentlabError as exc:
        print(f"agentlab: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
