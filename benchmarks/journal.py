"""Journal performance, in one run: write latency, resume read, bytes per step, and recording overhead.

    python benchmarks/journal.py

Each step is recorded as two events, "started" (no payload) and "done" with a realistic sub-task result
(~300 bytes of JSON). Targets: ≤ 1 ms p50 per write, ≤ 1 s to load a 1,000-step run, flat bytes per step.
Peers measured in research/perf-baseline.md: LangGraph SqliteSaver 13-109 KiB per step (O(N²)); DBOS
(SQLite) ~0.5 KiB and 4.6-5.8 ms per step. File sizes are taken after `PRAGMA wal_checkpoint(TRUNCATE)`,
as growth over an empty journal divided by the number of steps.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from agentlab.durable.journal import Step, completed, decode_result, encode_result
from agentlab.durable.sqlite import SqliteJournal
from agentlab.identity import canonical, step_key
from agentlab.steps import SubTaskResult

RUN = "bench"


def realistic_result(i: int) -> SubTaskResult:
    """What a researcher sub-task returns: a finding of a couple of sentences, where and when it ran."""
    value = (
        f"INC-{1000 + i % 97}: root cause was a full disk on the Orion Gateway log volume; it lasted "
        f"{i % 60} minutes (sources: d-1, d-4)."
    )
    start = 1_780_000_000.0 + i * 0.37
    return SubTaskResult(f"t{i}", "researcher", "done", value, None, "tcp://10.0.0.7:40123", start, start + 1.9)


def key_of(i: int, run_id: str = RUN) -> str:
    return step_key(run_id, f"r1/t{i}", "subtask", {"goal": f"find fact {i}", "role": "researcher", "deps": []})


def record(journal: SqliteJournal, i: int, run_id: str = RUN) -> None:
    """One step, as the supervisor records it: started, then done with its result."""
    key = key_of(i, run_id)
    journal.append(Step(run_id, key, "subtask", f"r1/t{i}", "started"))
    journal.append(Step(run_id, key, "subtask", f"r1/t{i}", "done", encode_result(realistic_result(i))))


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=20)
    return statistics.median(seconds) * 1e3, cuts[18] * 1e3


def write_latency(folder: Path, n: int, synchronous: str) -> dict[str, tuple[float, float]]:
    """p50/p95 (ms) of each kind of append, over n steps in a fresh file."""
    started, done = list[float](), list[float]()
    with SqliteJournal(folder / f"latency-{synchronous}.sqlite", synchronous=synchronous) as journal:
        for i in range(n):
            key = key_of(i)
            payload = encode_result(realistic_result(i))
            t0 = time.perf_counter()
            journal.append(Step(RUN, key, "subtask", f"r1/t{i}", "started"))
            t1 = time.perf_counter()
            journal.append(Step(RUN, key, "subtask", f"r1/t{i}", "done", payload))
            t2 = time.perf_counter()
            started.append(t1 - t0)
            done.append(t2 - t1)
    return {"started": percentiles(started), "done": percentiles(done)}


def resume_read(folder: Path, steps: int = 1000, other_runs: int = 9, repeats: int = 5) -> tuple[float, float]:
    """Median seconds to open the file and load one run's done steps by key (and to decode them too)."""
    path = folder / "resume.sqlite"
    with SqliteJournal(path) as journal:
        for run in range(other_runs + 1):
            for i in range(steps):
                record(journal, i, f"{RUN}-{run}")
    load, decode = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with SqliteJournal(path) as journal:
            by_key = completed(journal, f"{RUN}-{other_runs}")
        t1 = time.perf_counter()
        results = {key: decode_result(step.payload) for key, step in by_key.items()}
        t2 = time.perf_counter()
        assert len(results) == steps
        load.append(t1 - t0)
        decode.append(t2 - t0)
    return statistics.median(load), statistics.median(decode)


def bytes_per_step(folder: Path, n: int) -> tuple[float, int]:
    """(growth per step over an empty journal, file size), both after a WAL checkpoint."""
    path = folder / f"size-{n}.sqlite"
    with SqliteJournal(path) as journal:
        journal.start_run(RUN, "a goal")
        journal.checkpoint()
        empty = path.stat().st_size
        for i in range(n):
            record(journal, i)
        journal.checkpoint()
    size = path.stat().st_size
    return (size - empty) / n, size


def journal_overhead(folder: Path, n_steps: int, work_s: float, threads: int = 8) -> tuple[float, float]:
    """Wall seconds to run n steps on `threads` threads without and with recording each step.

    A proxy for "the same fan-out with the journal on and off" (that needs the supervisor): each step
    waits `work_s` (its model or tool call) and builds its result; recording adds started + done.
    """

    def step(i: int, journal: SqliteJournal | None) -> None:
        key = key_of(i)
        if journal is not None:
            journal.append(Step(RUN, key, "subtask", f"r1/t{i}", "started"))
        if work_s:
            time.sleep(work_s)
        result = realistic_result(i)
        if journal is not None:
            journal.append(Step(RUN, key, "subtask", f"r1/t{i}", "done", encode_result(result)))

    def run(journal: SqliteJournal | None) -> float:
        with ThreadPoolExecutor(threads) as pool:
            t0 = time.perf_counter()
            list(pool.map(lambda i: step(i, journal), range(n_steps)))
            return time.perf_counter() - t0

    off = run(None)
    with SqliteJournal(folder / f"overhead-{work_s}.sqlite") as journal:
        on = run(journal)
    return off, on


def table(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    print(f"  ({label}: {time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    return out


def main() -> None:
    payload_bytes = len(canonical(encode_result(realistic_result(7))))
    print(f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus, done payload {payload_bytes} bytes of JSON")
    rows = [("measure", "value", "target / note"), ("-------", "-----", "-------------")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        normal = timed("write latency, NORMAL", lambda: write_latency(folder, 5000, "NORMAL"))
        full = timed("write latency, FULL", lambda: write_latency(folder, 300, "FULL"))
        for name, lat in [("NORMAL", normal), ("FULL", full)]:
            for kind in ("started", "done"):
                p50, p95 = lat[kind]
                target = "<= 1 ms p50" if name == "NORMAL" else "fsync per commit"
                rows.append((f"write {kind:<7} ({name}) p50 / p95", f"{p50:.3f} / {p95:.3f} ms", target))
        load, decode = timed("resume read", lambda: resume_read(folder))
        rows.append(("resume: open + load 1,000-step run by key", f"{load * 1e3:.1f} ms", "<= 1 s (file: 10 runs)"))
        rows.append(("resume: ... + decode 1,000 SubTaskResults", f"{decode * 1e3:.1f} ms", ""))
        for n in (100, 1_000, 10_000):
            per, size = timed(f"size {n}", functools.partial(bytes_per_step, folder, n))
            rows.append((f"bytes per step at {n:,} steps", f"{per:.0f} B", f"file {size / 1024:.0f} KiB; flat"))
        for n, work in [(4000, 0.0), (2000, 0.001), (800, 0.01)]:
            off, on = timed(f"overhead {work}", functools.partial(journal_overhead, folder, n, work))
            rows.append(
                (
                    f"8 threads x {n} steps of {work * 1e3:g} ms: off / on",
                    f"{off:.3f} / {on:.3f} s",
                    f"ratio {on / off:.2f}; +{(on - off) / n * 1e6:.0f} us per step",
                )
            )
        on, off = timed("fan-out with the journal on and off", functools.partial(fanout_with_journal, folder))
        rows.append(
            (
                "the same fan-out (200 sub-tasks x 0.1 s): off / on",
                f"{off:.3f} / {on:.3f} s",
                f"ratio {on / off:.3f} (target <= 1.05)",
            )
        )
    print(table(rows))


def fanout_with_journal(folder: Path, repeats: int = 5) -> tuple[float, float]:
    """The same supervised fan-out, journaled and not, alternating runs on one cluster: median walls."""
    from distributed import Client  # noqa: PLC0415  (only this measure needs a cluster)

    from agentlab.cluster import local_cluster, quiet_heartbeats  # noqa: PLC0415
    from agentlab.fanout.supervisor import Supervisor  # noqa: PLC0415
    from agentlab.models.chat import offline_model  # noqa: PLC0415
    from agentlab.testing.runners import SleepRunner  # noqa: PLC0415

    goal = "Check " + "; ".join(f"part {i}" for i in range(200))  # the offline planner makes 200 sub-tasks + 1
    walls: dict[bool, list[float]] = {True: [], False: []}
    with (
        local_cluster(dashboard=False) as cluster,
        Client(cluster) as client,
        SqliteJournal(folder / "fanout.sqlite") as journal,
    ):
        for i in range(repeats * 2 + 1):
            use = i % 2 == 1
            supervisor = Supervisor(
                client, offline_model(), runner=SleepRunner(default=0.1), journal=journal if use else None
            )
            start = time.perf_counter()
            result = supervisor.run(goal, run_id=f"bench-{i}")
            if i:  # the first run warms the cluster
                walls[use].append(time.perf_counter() - start)
            assert result.stop_reason == "answer"
        quiet_heartbeats(client)  # the cluster closes next: no heartbeat may be on the wire (a traceback)
    return statistics.median(walls[True]), statistics.median(walls[False])


if __name__ == "__main__":
    main()
