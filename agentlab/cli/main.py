"""The command line (README).

agentlab demo                a research goal fanned out by a supervisor on a local Dask cluster, offline
agentlab run "question"      any question: fanned out, or one agent with --single; a real model with
                             --base-url / AGENTLAB_BASE_URL, a remote cluster with --address; the agents
                             also have the course's goals' tools and data (agentlab.course.goals;
                             --catalog DIR for another product catalogue)
agentlab fanout              Code 40.6.2: the course's six lines, then the same plan run on the cluster
agentlab run ... --run-id ID journal the run; the same id again resumes it (after a crash, say)
agentlab runs [--show ID]    the journaled runs, or one run's steps
agentlab grade [NOTEBOOK...] grade exercise notebooks (labs/README.md); agentlab student: regenerate them
agentlab mcp list|serve      an MCP server's tools, or agentlab's served; run ... --mcp "COMMAND" adds them
agentlab a2a serve --port P  an agentlab agent over A2A (agentlab.cli.protocols)
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from agentlab.agent.loop import run_agent
from agentlab.analysis import expected_turns
from agentlab.cli import protocols
from agentlab.cli.model_options import add_model_arguments, is_real, model_from_args
from agentlab.cluster import connect, describe, silence_from_env
from agentlab.course.goals import Workspace, workspace
from agentlab.course.seedplan import report, run_on_cluster, seed_plan
from agentlab.data import demo_goal
from agentlab.durable.journal import run_frame, runs_frame
from agentlab.durable.sqlite import SqliteJournal, default_path
from agentlab.errors import AgentlabError, UsageError
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.supervisor import FanOutResult, Supervisor
from agentlab.identity import identify
from agentlab.steps import SubTask
from agentlab.trace import merge

__all__ = ["main"]


def _single(question: str, args: argparse.Namespace, space: Workspace) -> int:
    """One ReAct agent, no cluster: the trace (model steps, tool calls and their RPC attempts), the answer,
    and E[T] = 1/q beside the turns it took. Its tools go through their RPC contracts, as on the cluster."""
    start = time.perf_counter()
    run_id = getattr(args, "run_id", None) or "single"
    toolkit = protocols.run_toolkit(args, space.toolkit)
    toolbox = toolkit.toolbox("researcher", identify(run_id, SubTask("a", question)))
    result = run_agent(question, model=model_from_args(args), tools=toolbox, max_turns=args.max_turns, run_id=run_id)
    result.trace.events[:] = merge(result.trace.events, toolbox.trace_events(run_id))
    print(f"question : {question}\n\n{result.trace.table()}\n")
    print(f"{'answer' if result.stop_reason == 'answer' else 'no answer':<9}: {result.answer}")
    print(
        f"stopped  : {result.stop_reason} after {result.turns} act-observe turn(s) "
        f"in {time.perf_counter() - start:.2f} s"
    )
    if not is_real(args):
        print(f"expected : E[T] = 1/q = {expected_turns(args.q):.2f} turns at q = {args.q}")
    return 0 if result.stop_reason == "answer" else 1


def _fan_out(goal: str, args: argparse.Namespace, space: Workspace | None = None) -> FanOutResult:
    """The supervisor on the cluster: plan, per-sub-task timeline, answer, speedups. `space`: the course's
    tools and planning context (`agentlab run`; `agentlab demo` keeps the built-in tools).

    With --run-id the run is journaled; running the same id again resumes it, skipping finished steps.
    """
    run_id = getattr(args, "run_id", None)
    journal = SqliteJournal(args.journal) if run_id else None
    try:
        with connect(args.address) as client:
            print(f"cluster  : {describe(client)}")
            if journal is not None:
                print(f"journal  : {journal.path} (run {run_id})")
            model = model_from_args(args)
            runner = protocols.run_runner(args, model, space.toolkit if space else None)  # None: the default
            context = space.context if space else ""
            policy = FanOutPolicy(silence=silence_from_env())  # a cut-off cluster ends the run: exit 2
            supervisor = Supervisor(client, model, runner=runner, journal=journal, context=context, policy=policy)
            result = supervisor.run(goal, run_id=run_id)
    finally:
        if journal is not None:
            journal.close()
    print(f"goal     : {goal}\n")
    for number, plan in enumerate(result.plans, 1):
        print(f"plan (round {number}):\n{_shown(plan.describe())}\n")
    if not result.plans:
        print("plan     : none (the planning step did not complete)\n")
    print(f"timeline (seconds since the run began):\n{_shown(result.timeline())}\n")
    rpc = result.rpc_table()
    if rpc:
        print(f"tool calls as RPC (attempts, outcomes, idempotency keys):\n{_shown(rpc)}\n")
    failures = result.failures()
    if failures:
        print("sub-tasks without a result:")
        for r in failures[:60]:
            print(f"  {r.id:<12} {r.state:<9} {' '.join((r.error or '').split())[:200]}")
        print()
    print(f"{'answer' if result.ok else 'no answer':<9}: {result.answer}")
    print(f"stopped  : {result.stop_reason}\n")
    print(result.summary())
    return result


def _shown(text: str, lines: int = 60) -> str:
    """At most `lines` lines of a long listing, saying how many more there are."""
    rows = text.splitlines()
    more = f"\n  ... and {len(rows) - lines} more" if len(rows) > lines else ""
    return "\n".join(rows[:lines]) + more


def _run(args: argparse.Namespace) -> int:
    """`agentlab run`: the question with the course's tools and data, fanned out or by one agent."""
    with workspace(args.catalog, seed=args.seed) as space:
        if args.single:
            return _single(args.question, args, space)
        return 0 if _fan_out(args.question, args, space).ok else 1


def _demo(args: argparse.Namespace) -> int:
    goal, truths = demo_goal()
    result = _fan_out(goal, args)
    missing = [q.answer for q in truths if not q.is_answered_by(result.answer)]
    if not result.ok:
        print(f"truth    : not checked: the run ended {result.stop_reason} without an answer")
        return 1
    verdict = "correct" if not missing else f"WRONG (missing {missing})"
    print(f"truth    : {', '.join(repr(q.answer) for q in truths)} -> {verdict}")
    return 0 if verdict == "correct" else 1


def _runs(args: argparse.Namespace) -> int:
    """List the journaled runs, or show one run's steps."""
    with SqliteJournal(args.journal) as journal:
        if args.show:
            info = journal.run(args.show)
            if info is None:
                raise UsageError(f"no run {args.show!r} in the journal {journal.path} (agentlab runs lists them)")
            print(f"run      : {info.run_id} · {info.status} · {info.stop_reason or 'still running'}")
            print(f"goal     : {info.goal}\nanswer   : {info.answer or '-'}\n")
        frame = run_frame(journal, args.show) if args.show else runs_frame(journal)
    if len(frame):
        frame["created"] = pd.to_datetime(frame["created"], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
    empty = "(no steps recorded)" if args.show else "(no runs recorded)"
    print(frame.to_string(index=False) if len(frame) else empty)
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
    run.add_argument(
        "--catalog", metavar="DIR", help="a product catalogue for the price check (agentlab.course.catalog)"
    )
    for p in (demo, run):
        p.add_argument("--max-turns", type=int, default=8)
        add_model_arguments(p)
    fanout = sub.add_parser("fanout", help="Code 40.6.2: the seed's plan, analysed and run on the cluster")
    fanout.add_argument("--seed", dest="seed_value", type=int, default=7)
    fanout.add_argument("--n", type=int, default=8)
    for p in (demo, run, fanout):
        p.add_argument("--address", help="a Dask scheduler (default: $DASK_SCHEDULER_ADDRESS or a local cluster)")
    run.add_argument("--run-id", help="journal the run under this id; the same id again resumes it")
    protocols.add_run_options(run)
    runs = sub.add_parser("runs", help="list journaled runs (or --show RUN_ID for one run's steps)")
    runs.add_argument("--show", metavar="RUN_ID")
    sub.add_parser("grade", help="grade exercise notebooks (see labs/README.md; needs the labs extra)")
    sub.add_parser("student", help="regenerate the student notebooks from the instructor sources")
    sub.add_parser("mcp", help="MCP: list a server's tools (mcp list -- COMMAND), serve agentlab's (mcp serve)")
    sub.add_parser("a2a", help="A2A: serve an agentlab agent (a2a serve --port P)")
    sub.add_parser("sim", help="simulate the fleet under a nemesis: sim explore --seeds N, sim replay SEED")
    for p in (run, runs):
        p.add_argument("--journal", default=default_path(), help="the journal file (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["mcp"], ["a2a"]):
        return protocols.main(argv)
    if argv[:1] == ["sim"]:
        from agentlab.cli import sim  # noqa: PLC0415  (the simulator loads only when asked for)

        return sim.main(argv[1:])
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
        return _run(args)
    except AgentlabError as exc:
        print(f"agentlab: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped  : cancelled (Ctrl-C); a journaled run resumes with the same --run-id", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
