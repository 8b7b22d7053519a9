"""The supervisor: plan → fan out to role executors on Dask → gather → reduce, round after round (lab 03).

    1. Plan: one model step, offered `make_plan`, turns the goal into a sub-task DAG (Figure 40.6.2).
    2. Fan out: ready sub-tasks run as Dask futures, each its own ReAct loop on a worker, by the
       round's policy (all / any / quorum / deadline; timeouts, re-plans, hedges: `agentlab.fanout`).
    3. Reduce: one model step reads every finding and either calls `finish` or `replan`s the missing
       work as another round, up to `max_rounds`.

The supervisor runs in the client process (the notebook or the CLI); executors and their tool calls run
on the workers. Its trace holds one event per step — plan, each sub-task, reduce — which is what the
Gantt chart draws and what the speedup numbers are measured from.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from distributed import Client

from agentlab.analysis import critical_path
from agentlab.dispatch import FuturesDispatcher, LaneDispatcher
from agentlab.durable import RunJournal
from agentlab.errors import AgentlabError, InvalidArguments
from agentlab.executor import AgentRunner, SubTaskResult
from agentlab.fanout import FanOutPolicy, Observer, run_round
from agentlab.journal import JournalStore
from agentlab.models import Model
from agentlab.plan import Plan, SubTask, base_id
from agentlab.planning import FINISH_TOOL, PLAN_TOOL, REPLAN_TOOL, findings_block, reduce_prompt, synthesize
from agentlab.trace import Trace
from agentlab.wire import ModelReply

__all__ = ["FanOutResult", "Supervisor"]

PLANNER_PROMPT = (
    "You are a supervisor. Split the goal into sub-tasks for executor agents (roles: researcher, "
    "coder, analyst, critic); make independent sub-tasks independent so they run in parallel."
)
REDUCER_PROMPT = "You are a supervisor. Read the findings; finish with the answer, or replan the missing work."


@dataclass
class FanOutResult:
    """A supervised run: the answer, the plans of each round, every sub-task result, and the trace."""

    answer: str
    stop_reason: str
    """"finished" (reduce called finish), "max_rounds", or "model_error"."""
    plans: list[Plan]
    results: list[SubTaskResult]
    trace: Trace = field(repr=False)
    wall: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        return self.trace.to_frame()

    @property
    def spine(self) -> float:
        """Seconds spent in the supervisor's own sequential steps (plan and reduce)."""
        return sum(e.duration for e in self.trace.events if e.who == "supervisor")

    @property
    def sequential(self) -> float:
        """What the same steps would take run one after another: the spine plus every sub-task."""
        return self.spine + sum(r.duration for r in self.results if r.tag == "primary" or r.ok)

    @property
    def ideal(self) -> float:
        """The spine plus each round's critical path: the best any number of workers could do."""
        total = self.spine
        for plan in self.plans:
            durations = {r.id: r.duration for r in self.results if r.id in plan.graph}
            total += critical_path(plan.graph, durations)[1]
        return total

    def summary(self) -> str:
        return (
            f"wall {self.wall:.2f} s · sequential path {self.sequential:.2f} s · ideal {self.ideal:.2f} s\n"
            f"achieved speedup {self.sequential / self.wall:.2f}x · ideal speedup "
            f"{self.sequential / self.ideal:.2f}x (sum over the critical path)"
        )

    def timeline(self) -> str:
        """Per-sub-task lines: when it ran (seconds since the run began), where, and how it ended."""
        frame = self.to_frame()
        rows = frame[frame["who"] != "supervisor"].to_dict("records")
        return "\n".join(
            f"  {r['t0']:6.2f}-{r['t1']:6.2f} s  {r['who']:<20} {r['outcome']:<9} {str(r['detail'])[:28]:<28} "
            f"{str(r['what'])[:50]}"
            for r in rows
        )


class Supervisor:
    """Plans, fans out, gathers and reduces; holds no run state between runs (that lives in the result)."""

    def __init__(
        self,
        client: Client,
        model: Model,
        runner: Any = None,
        policy: FanOutPolicy | None = None,
        observers: Sequence[Observer] = (),
        dispatch: str = "lanes",
        journal: JournalStore | None = None,
    ) -> None:
        """`dispatch`: "lanes" (batched actor lanes, for many I/O-bound steps) or "futures" (one Dask
        future per sub-task, each visible in the dashboard); see `agentlab.dispatch`.
        `journal`: where runs are recorded; running a run id again resumes it (`agentlab.durable`)."""
        if dispatch not in ("lanes", "futures"):
            raise ValueError(f"dispatch must be 'lanes' or 'futures', not {dispatch!r}")
        self.client, self.model, self.dispatch = client, model, dispatch
        self.runner = runner
        self.policy = policy or FanOutPolicy()
        self.observers = list(observers)
        self.journal = journal

    def _observe(self, event: str, task: SubTask, info: dict[str, Any]) -> None:
        for observer in self.observers:
            observer(event, task, info)

    def _step(
        self, trace: Trace, log: RunJournal, what: str, path: str, prompt: str, tools: list[dict[str, Any]]
    ) -> ModelReply:
        start = time.time()
        messages = [
            {"role": "system", "content": PLANNER_PROMPT if what == "plan" else REDUCER_PROMPT},
            {"role": "user", "content": prompt},
        ]
        reply, replayed = log.model_step(path, prompt, lambda: self.model.complete(messages, tools))
        trace.add(
            "supervisor",
            what,
            start,
            time.time(),
            "replayed" if replayed else reply.finish_reason,
            ", ".join(c.name for c in reply.tool_calls) or (reply.content or "")[:200],
        )
        return reply

    def plan(self, goal: str, trace: Trace, log: RunJournal) -> Plan:
        """The planning step. A plan the model gets wrong becomes a one-sub-task plan, noted in the trace."""
        reply = self._step(trace, log, "plan", "plan", goal, [PLAN_TOOL])
        call = next((c for c in reply.tool_calls if c.name == "make_plan"), None)
        try:
            if call is None:
                raise InvalidArguments("the planner did not call make_plan")
            return Plan.from_spec(json.loads(call.arguments))
        except (InvalidArguments, json.JSONDecodeError) as exc:
            trace.add("supervisor", "plan rejected", time.time(), time.time(), "InvalidArguments", str(exc))
            return Plan([SubTask("a", goal)])

    def reduce(
        self,
        goal: str,
        latest: list[SubTaskResult],
        goals: dict[str, str],
        round_no: int,
        trace: Trace,
        log: RunJournal,
    ) -> tuple[str, Plan | None]:
        """The reduce step over the latest result of every planned sub-task: (answer, None) to finish,
        or ("", the next round's plan)."""
        # in a fixed order, so a resumed run asks the reduce step the very same question (and replays it)
        rows = [
            (r.id, r.role, r.state, goals.get(r.id, ""), r.value or r.error or "")
            for r in sorted(latest, key=lambda r: r.id)
        ]
        prompt = reduce_prompt(goal, round_no, self.policy.max_rounds, findings_block(rows))
        reply = self._step(trace, log, "reduce", f"r{round_no}/reduce", prompt, [FINISH_TOOL, REPLAN_TOOL])
        for call in reply.tool_calls:
            try:
                args = json.loads(call.arguments)
                if call.name == "finish":
                    return str(args["answer"]), None
                if call.name == "replan" and round_no < self.policy.max_rounds:
                    return "", Plan.from_spec(args, earlier=[r.id for r in latest if r.ok])
            except (InvalidArguments, json.JSONDecodeError, KeyError, TypeError) as exc:
                trace.add("supervisor", "reduce rejected", time.time(), time.time(), "InvalidArguments", str(exc))
        return reply.content or synthesize(prompt) or "No sub-task produced a result.", None

    def run(self, goal: str, run_id: str | None = None) -> FanOutResult:
        run_id = run_id or uuid.uuid4().hex[:12]
        runner = self.runner or AgentRunner(self.model, run_id=run_id)  # type: ignore[arg-type]
        trace, plans, results = Trace(run_id), list[Plan](), list[SubTaskResult]()
        start = time.time()
        known: dict[str, SubTaskResult] = {}  # the latest result of each planned sub-task, by its base id
        goals: dict[str, str] = {}
        make = LaneDispatcher if self.dispatch == "lanes" else FuturesDispatcher
        dispatcher = make(self.client, runner)
        log = RunJournal(self.journal, run_id, goal)
        try:
            plan = self.plan(goal, trace, log)
            for round_no in range(1, self.policy.max_rounds + 1):
                plans.append(plan)
                for task in plan.tasks:
                    self._observe("planned", task, {"round": round_no})
                record = log.recorder(round_no)

                def observe(event: str, task: SubTask, info: dict[str, Any], record: Observer = record) -> None:
                    record(event, task, info)
                    self._observe(event, task, info)

                round_results = run_round(
                    self.client, plan, runner, self.policy, run_id, observe, known, dispatcher, log.replayed(plan)
                )
                for r in round_results.values():
                    known[base_id(r.id)] = r  # a re-plan's result takes the place of the one it redoes
                    goals[r.id] = plan.task(r.id).goal
                    trace.add(f"{r.role}:{r.id}", goals[r.id], r.start or start, r.end or start, r.state, r.worker)
                results.extend(round_results.values())
                answer, next_plan = self.reduce(goal, list(known.values()), goals, round_no, trace, log)
                if next_plan is None:
                    log.finish("finished", answer)
                    return FanOutResult(answer, "finished", plans, results, trace, time.time() - start)
                plan = next_plan
        except AgentlabError as exc:
            return FanOutResult(
                f"The supervisor stopped: {exc}", "model_error", plans, results, trace, time.time() - start
            )
        finally:
            dispatcher.close()
        return FanOutResult(
            synthesize(findings_block([(r.id, r.role, r.state, "", r.value) for r in results])) or "",
            "max_rounds",
            plans,
            results,
            trace,
            time.time() - start,
        )
