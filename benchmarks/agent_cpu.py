"""CPU per agent loop, split between the agent's side and the offline model's, three ways in one run.

    python benchmarks/agent_cpu.py [--loops 500] [--latency 0.05]

Each loop is one short agent on the offline model (model step → search_kb → answer), the workload of
`benchmarks/fanout.py`'s agents1000. The offline model is answered in-process, so its CPU is measured
where it is spent: the time inside `agentlab.models.offline.server.completion_body` (the model server's work) is the
"model" column, everything else (the `openai` SDK, the loop, the tool contract, the search) the "agent".

    sequential   one loop after another in one thread: the floor
    threads      all loops at once on a pool of threads, as a lane runs a blocking runner
    awaited      all loops at once on one event loop (`AgentRunner.arun`), as a lane runs it now

CPU is process time over the loops; wall is what they took together. Read the ratios: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentlab.data import kb_questions
from agentlab.fanout.quietgc import fewer_collections
from agentlab.fanout.runners import AgentRunner
from agentlab.identity import Work, identify
from agentlab.models.blocking import THREADS
from agentlab.models.chat import offline_model
from agentlab.models.offline import server as offline
from agentlab.steps import SubTask

MODEL_CPU = [0.0]  # seconds of CPU spent answering model steps (all threads: the counter is process-wide)


def count_model_cpu() -> None:
    """Wrap the offline model's answer so its CPU is counted apart (thread time: it never blocks)."""
    answer = offline.completion_body

    def counted(*args: Any) -> Any:
        start = time.thread_time()
        try:
            return answer(*args)
        finally:
            MODEL_CPU[0] += time.thread_time() - start

    offline.completion_body = counted  # type: ignore[assignment]  (`offline.answer` calls it)


def measure(name: str, run: Callable[[], list[Any]], loops: int) -> None:
    MODEL_CPU[0] = 0.0
    with fewer_collections():
        cpu, wall = time.process_time(), time.perf_counter()
        results = run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    total, model = cpu / loops * 1e3, MODEL_CPU[0] / loops * 1e3
    print(f"{name:<11} {total:>9.2f} {total - model:>9.2f} {model:>9.2f} {wall:>8.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each model step waits")
    args = parser.parse_args()
    count_model_cpu()
    questions = [q.question for q in kb_questions() if len(q.doc_ids) == 1]
    tasks = [SubTask(f"q{i}", questions[i % len(questions)]) for i in range(args.loops)]
    works = [Work("cpu", t, identify("cpu", t)) for t in tasks]
    runner = AgentRunner(offline_model(q=1.0, latency=args.latency))

    async def awaited() -> list[Any]:
        return list(await asyncio.gather(*(runner.arun(w) for w in works)))

    print(f"{args.loops} agent loops, model steps of {args.latency:g} s; CPU in ms per loop")
    print(f"{'':<11} {'total':>9} {'agent':>9} {'model':>9} {'wall s':>8}")
    quick = AgentRunner(offline_model(q=1.0, latency=0.0))
    [quick(w) for w in works]  # every question asked once: what is cached per text is cached for all three
    measure("sequential", lambda: [quick(w) for w in works], args.loops)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:  # a lane's pool
        measure("threads", lambda: list(pool.map(runner, works)), args.loops)
    measure("awaited", lambda: asyncio.run(awaited()), args.loops)


if __name__ == "__main__":
    main()
