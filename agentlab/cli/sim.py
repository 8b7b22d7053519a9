"""`agentlab sim ...`: explore seeds for counterexamples, replay one, show a saved history (lab 07; README: Simulation).

    agentlab sim explore --seeds 2000 [--nemesis all] [--checkers all] [--size 6] [--jobs 2]
    agentlab sim replay SEED [--nemesis all] [--size 6] [--save FILE] [--schedule-of FILE]
    agentlab sim show FILE
    agentlab sim board --seeds 500           the blackboard: linearizable, fenced, durable (lab 05)

`explore` exits 1 when any checker found a violation (each printed with its seed and shrunk schedule);
`replay` prints the history's hash and its timeline, the same on every run of one seed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from agentlab.errors import AgentlabError, UsageError
from agentlab.sim.checkers import CHECKERS, Checker
from agentlab.sim.explore import Report, Violation, explore, shrink
from agentlab.sim.fleet import simulate
from agentlab.sim.history import History
from agentlab.sim.world import faults_of

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentlab sim", description="Search the fleet's runs for broken promises.")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explore", help="simulate many seeds and check every promise")
    ex.add_argument("--seeds", type=int, default=2000)
    ex.add_argument("--first", type=int, default=0, help="the first seed (default 0)")
    ex.add_argument("--checkers", default="all", help=f"comma-separated, or all: {', '.join(CHECKERS)}")
    ex.add_argument("--jobs", type=int, default=2, help="processes (default 2: both cores here)")
    ex.add_argument("--shrink", type=int, default=3, help="shrink and show this many violations per checker")
    rp = sub.add_parser("replay", help="replay one seed: its history's hash and timeline")
    rp.add_argument("seed", type=int)
    rp.add_argument("--save", metavar="FILE", help="write the history as JSON")
    board = sub.add_parser("board", help="the shared blackboard under a nemesis: linearizable, fenced, durable")
    board.add_argument("--seeds", type=int, default=500)
    board.add_argument("--clients", type=int, default=3)
    show = sub.add_parser("show", help="show a saved history")
    show.add_argument("file")
    for p in (ex, rp):
        p.add_argument("--nemesis", default="all", help="comma-separated nemesis or fault names (default: all)")
        p.add_argument("--size", type=int, default=6, help="sub-tasks in the plan")
    return parser


def _checkers(names: str) -> dict[str, Checker]:
    if names == "all":
        return dict(CHECKERS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in CHECKERS]
    if unknown:
        raise UsageError(f"no checker called {', '.join(unknown)}; known: {', '.join(CHECKERS)}")
    return {n: CHECKERS[n] for n in wanted}


def _chunk(args: tuple[range, frozenset[str], tuple[str, ...], int]) -> Report:
    seeds, faults, names, size = args
    return explore(seeds, faults, {n: CHECKERS[n] for n in names}, size=size)


def explore_parallel(seeds: range, faults: frozenset[str], names: Sequence[str], size: int, jobs: int) -> Report:
    """`explore`, the seeds split over `jobs` processes; the reports merged in seed order."""
    if jobs <= 1:
        return _chunk((seeds, faults, tuple(names), size))
    step = -(-len(seeds) // jobs)
    parts = [(seeds[i : i + step], faults, tuple(names), size) for i in range(0, len(seeds), step)]
    with ProcessPoolExecutor(jobs) as pool:
        reports = list(pool.map(_chunk, parts))
    merged = Report(passed=dict.fromkeys(names, 0))
    for r in reports:
        merged.runs += r.runs
        merged.seconds = max(merged.seconds, r.seconds)
        merged.violations += r.violations
        for name, ok in r.passed.items():
            merged.passed[name] += ok
    return merged


def _show_violation(v: Violation) -> None:
    schedule, size, history = shrink(v)
    print(f"\n✗ {v.checker} · seed {v.seed}: {v.messages[0]}")
    faults = ", ".join(f"{f}@{w}" for f, w in sorted(schedule)) or "none"
    print(f"  shrunk: {size} sub-task(s), {len(schedule)} fault(s): {faults}")
    print(f"  replay: agentlab sim replay {v.seed} --nemesis {','.join(sorted(v.faults)) or 'none'} --size {v.size}")
    del history


def _explore(args: argparse.Namespace) -> int:
    faults, checkers = faults_of(args.nemesis.split(",")), _checkers(args.checkers)
    seeds = range(args.first, args.first + args.seeds)
    report = explore_parallel(seeds, faults, list(checkers), args.size, args.jobs)
    print(f"nemesis: {', '.join(sorted(faults)) or 'none'} · {args.size} sub-tasks per plan")
    print(report.table())
    shown: dict[str, int] = {}
    for v in report.violations:
        if shown.get(v.checker, 0) < args.shrink:
            shown[v.checker] = shown.get(v.checker, 0) + 1
            _show_violation(v)
    return 1 if report.violations else 0


def _replay(args: argparse.Namespace) -> int:
    history = simulate(args.seed, faults_of(args.nemesis.split(",")), size=args.size)
    print(history.timeline())
    print(f"\nhistory {history.digest()} · seed {args.seed} · {len(history.records)} records")
    for name, check in CHECKERS.items():
        messages = check(history)
        print(f"  {name:<24} {'ok' if not messages else '✗ ' + '; '.join(messages)}")
    if args.save:
        history.save(args.save)
        print(f"saved to {args.save}")
    return 0


def _board(args: argparse.Namespace) -> int:
    from agentlab.sim.board import BOARD_FAULTS, explore_board  # noqa: PLC0415

    report = explore_board(range(args.seeds), frozenset(BOARD_FAULTS), clients=args.clients)
    print(f"nemesis: {', '.join(sorted(BOARD_FAULTS))} · {args.clients} clients on one board")
    print(report.table())
    for v in report.violations[:3]:
        print(f"\n✗ {v.checker} · seed {v.seed}: {v.messages[0]}")
    return 1 if report.violations else 0


def _show(args: argparse.Namespace) -> int:
    try:
        history = History.load(args.file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{args.file} is not a saved simulator history ({type(exc).__name__}: {exc})") from exc
    print(history.timeline())
    meta = history.meta
    print(f"\nhistory {history.digest()} · seed {meta.get('seed')} · faults {', '.join(meta.get('faults', []))}")
    if meta.get("board"):
        return 0
    schedule = frozenset((str(f), str(w)) for f, w in meta["schedule"]) if "schedule" in meta else None
    again = simulate(int(meta["seed"]), frozenset(meta["faults"]), size=int(meta["size"]), schedule=schedule)
    same = again.digest() == history.digest()
    print(f"replayed from its seed: {'the identical history' if same else 'a different history ' + again.digest()}")
    return 0 if same else 1


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    try:
        return {"explore": _explore, "replay": _replay, "board": _board, "show": _show}[args.command](args)
    except AgentlabError as exc:
        print(f"agentlab sim: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
