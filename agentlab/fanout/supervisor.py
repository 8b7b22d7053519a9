"""The supervisor: plan → fan out to role executors on Dask → gather → reduce, round after round (lab 03).

    1. Plan: one model step, offered `make_plan`, turns the goal into a sub-task DAG (Figure 40.6.2).
    2. Fan out: ready sub-tasks run on the workers, each its own ReAct loop, by the round's policy
       (all / any / quorum / deadline; timeouts, re-plans, hedges: `agentlab.fanout.round`).
    3. Reduce: one model step reads every finding and either calls `finish` or `replan`s the missing
       work as another round (each new sub-task naming the one it `replaces`), up to `max_rounds`.
    4. End truthfully, with one of `agentlab.steps.STOP_REASONS`: "answer" only if the reduce step
       finished with an answer built on at least one sub-task's result; "no_answer" if no sub-task
       produced one; "max_rounds" if the reduce step still wanted another round on the last; a
       failing model ends the run "model_error"; Ctrl-C ends it "cancelled". A journaled run is
       recorded finished or failed whichever way it ends.

The supervisor runs in the client process (the notebook or the CLI); executors and their tool calls run
on the workers. Its trace holds one event per step — plan, each sub-task, reduce — which is what the
Gantt chart draws and what the speedup numbers are measured from; each sub-task's own trace (model
steps, tool calls, RPC attempts) travels in its result.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from distributed import Client

from agentlab.analysis import critical_path
from agentlab.durable.journal import JournalStore
from agentlab.durable.run import DurableRun
from agentlab.errors import AgentlabError, InvalidArguments, UsageError
from agentlab.fanout.findings import FindingsBoard, board_rows, poster
from agentlab.fanout.lanes import Dispatcher, FuturesDispatcher, LaneDispatcher
from agentlab.fanout.plan import Plan
from agentlab.fanout.round import FanOutPolicy, Observer, run_round
from agentlab.fanout.runners import AgentRunner, Runner
from agentlab.models.chat import Model
from agentlab.prompts import FINISH_TOOL, PLAN_TOOL, REPLAN_TOOL, findings_block, reduce_prompt
from agentlab.steps import StopReason, SubTask, SubTaskResult
from agentlab.trace import Trace
from agentlab.wire import ModelReply

__all__ = ["FanOutResult", "Supervisor"]

PLANNER_PROMPT = (
    "You are a supervisor. Split the goal into sub-tasks for executor agents (roles: researcher, "
    "coder, analyst, critic); make independent sub-tasks independent so they run in parallel."
)
REDUCER_PROMPT = (
    "You are a supervisor. Read the findings; finish with the answer, or replan the missing work "
    "(each new sub-task naming the earlier one it replaces)."
)


@dataclass
class FanOutResult:
    """A supervised run: the answer, why it stopped, the plans of each round, every sub-task result, the trace."""

    answer: str
    stop_reason: StopReason
    plans: list[Plan]
    results: list[SubTaskResult]
    trace: Trace = field(repr=False)
    wall: float = 0.0

    @property
    def ok(self) -> bool:
        """True only when the run ended with an answer."""
        return self.stop_reason == "answer"

    def to_frame(self) -> pd.DataFrame:
        """The supervisor's trace: plan and reduce steps, and one row per sub-task."""
        return self.trace.to_frame()

    def events_frame(self) -> pd.DataFrame:
        """What happened inside the sub-tasks: every model step, tool call and RPC attempt, one row each."""
        events = [event for r in self.results for event in r.events]
        return Trace(self.trace.run_id, sorted(events, key=lambda e: e.start)).to_frame()

    def failures(self) -> list[SubTaskResult]:
        """The sub-tasks that ended without a result, with why (`error`)."""
        return [r for r in self.results if not r.ok]

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
        if not self.results or self.wall <= 0 or self.ideal <= 0:
            return f"wall {self.wall:.2f} s · no sub-task ran, so there is no speedup to report"
        return (
            f"wall {self.wall:.2f} s · sequential path {self.sequential:.2f} s · ideal {self.ideal:.2f} s\n"
            f"achieved speedup {self.sequential / self.wall:.2f}x · ideal speedup "
            f"{self.sequential / self.ideal:.2f}x (sum over the critical path)"
        )

    def timeline(self) -> str:
        """Per-sub-task lines: when it ran (seconds since the run began), where, how it ended, and why."""
        origin = min((e.start for e in self.trace.events), default=0.0)
        lines = []
        for r in sorted(self.results, key=lambda r: (r.start or origin, r.id)):
            t0, t1 = (r.start or origin) - origin, (r.end or origin) - origin
            why = "" if r.ok else f"  ({' '.join((r.error or '').split())[:90]})"
            lines.append(f"  {t0:6.2f}-{t1:6.2f} s  {r.role + ':' + r.id:<22} {r.state:<9} {r.worker or '-':<22}{why}")
        return "\n".join(lines) or "  (no sub-task ran)"

    def rpc_table(self) -> str:
        """Every tool call's RPC attempts, one line each: the sub-task, tool, attempt, outcome and key."""
        rows = [(r.id, e) for r in self.results for e in r.events if e.who.startswith("rpc:")]
        return "\n".join(f"  {tid:<12} {e.who[4:]:<12} {e.what:<60} {e.outcome}" for tid, e in rows)

    def _repr_html_(self) -> str:
        return f"<p><b>{self.stop_reason}</b>: {self.answer}</p><pre>{self.timeline()}</pre>"


DispatchChoice = Literal["lanes", "futures"] | Callable[[Runner], Dispatcher]


class Supervisor:
    """Plans, fans out, gathers and reduces; holds no run state between runs (that lives in the result)."""

    def __init__(
        self,
        client: Client | None,
        model: Model,
        runner: Runner | None = None,
        policy: FanOutPolicy | None = None,
        observers: Sequence[Observer] = (),
        dispatch: DispatchChoice = "lanes",
        journal: JournalStore | None = None,
        clock: Callable[[], float] = time.time,
        board: FindingsBoard | None = None,
    ) -> None:
        """`dispatch`: "lanes" (batched actor lanes, for many I/O-bound steps), "futures" (one Dask future
        per sub-task, each visible in the dashboard), or a function runner → dispatcher (such as
        `agentlab.testing.InlineDispatcher`, which needs no cluster: then `client` may be None).
        `journal`: where runs are recorded; running a run id again resumes it (`agentlab.durable.run`).
        `clock`: the time the rounds decide by (a fake clock in tests).
        `board`: a shared findings board (`agentlab.memory.Blackboard`): each finding is posted there, and the
        reduce step also reads what others posted (`agentlab.fanout.findings`)."""
        if not callable(dispatch) and dispatch not in ("lanes", "futures"):
            raise UsageError(f"dispatch must be 'lanes', 'futures' or a function, not {dispatch!r}")
        if client is None and not callable(dispatch):
            raise UsageError("a Supervisor needs a Dask client, unless it is given its own dispatcher")
        self.client, self.model, self.dispatch = client, model, dispatch
        self.runner = runner
        self.policy = policy or FanOutPolicy()
        self.observers = list(observers)
        self.journal = journal
        self.clock = clock
        self.board = board

    def _observe(self, event: str, task: SubTask, info: dict[str, Any]) -> None:
        for observer in self.observers:
            observer(event, task, info)

    def _dispatcher(self, runner: Runner) -> Dispatcher:
        if callable(self.dispatch):
            return self.dispatch(runner)
        assert self.client is not None  # checked in __init__
        make = LaneDispatcher if self.dispatch == "lanes" else FuturesDispatcher
        return make(self.client, runner)

    def _step(
        self, trace: Trace, log: DurableRun, what: str, path: str, prompt: str, tools: list[dict[str, Any]]
    ) -> ModelReply:
        start = self.clock()
        messages = [
            {"role": "system", "content": PLANNER_PROMPT if what == "plan" else REDUCER_PROMPT},
            {"role": "user", "content": prompt},
        ]
        try:
            reply, replayed = log.model_step(path, prompt, lambda: self.model.complete(messages, tools))
        except AgentlabError as exc:
            trace.add("supervisor", what, start, self.clock(), "error", str(exc))
            raise
        trace.add(
            "supervisor",
            what,
            start,
            self.clock(),
            "replayed" if replayed else reply.finish_reason,
            ", ".join(c.name for c in reply.tool_calls) or (reply.content or "")[:200],
        )
        return reply

    def plan(self, goal: str, trace: Trace, log: DurableRun) -> Plan:
        """The planning step. A plan the model gets wrong becomes a one-sub-task plan, noted in the trace."""
        reply = self._step(trace, log, "plan", "plan", goal, [PLAN_TOOL])
        call = next((c for c in reply.tool_calls if c.name == "make_plan"), None)
        try:
            if call is None:
                raise InvalidArguments("the planner did not call make_plan")
            return Plan.from_spec(json.loads(call.arguments))
        except (InvalidArguments, json.JSONDecodeError) as exc:
            trace.add("supervisor", "plan rejected", self.clock(), self.clock(), "InvalidArguments", str(exc))
            return Plan([SubTask("a", goal)])

    def reduce(
        self, goal: str, state: _RunState, round_no: int, trace: Trace, log: DurableRun
    ) -> tuple[StopReason | None, str, Plan | None]:
        """The reduce step over the latest result of every planned sub-task: (reason, answer, None) to
        stop, or (None, "", the next round's plan)."""
        # in a fixed order, so a resumed run asks the reduce step the very same question (and replays it)
        rows: list[tuple[str, str, str, str, str]] = [
            (r.id, r.role, r.state, state.goals.get(r.id, ""), r.value or r.error or "") for r in state.latest()
        ]
        if self.board is not None:
            rows += board_rows(self.board, log.run_id)
        prompt = reduce_prompt(goal, round_no, self.policy.max_rounds, findings_block(rows))
        reply = self._step(trace, log, "reduce", f"r{round_no}/reduce", prompt, [FINISH_TOOL, REPLAN_TOOL])
        for call in reply.tool_calls:
            try:
                args = json.loads(call.arguments)
                if call.name == "finish":
                    return state.verdict(str(args["answer"]))
                if call.name == "replan":
                    if round_no >= self.policy.max_rounds:
                        return "max_rounds", state.partial(self.policy.max_rounds), None
                    origins, earlier = state.origins, state.usable_ids()
                    return None, "", Plan.from_spec(args, earlier=earlier, round_no=round_no + 1, origins=origins)
            except (InvalidArguments, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                trace.add("supervisor", "reduce rejected", self.clock(), self.clock(), "InvalidArguments", str(exc))
        return state.verdict(reply.content or "")

    def run(self, goal: str, run_id: str | None = None) -> FanOutResult:
        """Answer `goal` by fanning out; the result says truthfully how the run ended (never raises for a
        model that fails: that is a "model_error" result)."""
        run_id = run_id or uuid.uuid4().hex[:12]
        runner: Runner = self.runner or AgentRunner(self.model)
        trace, state, start = Trace(run_id), _RunState(), self.clock()
        log = DurableRun(self.journal, run_id, goal)  # refuses a mismatched resume before anything runs
        reason: StopReason = "cancelled"
        answer = "The run was interrupted before it ended."
        try:
            dispatcher = self._dispatcher(runner)
            try:
                reason, answer = self._rounds(goal, run_id, state, trace, log, dispatcher)
            finally:
                dispatcher.close()
        except AgentlabError as exc:
            if exc.stop_reason is None:  # not the model's fault: the cluster, the configuration, ...
                log.abort(exc)
                raise
            reason, answer = exc.stop_reason, f"The supervisor stopped: {exc}"
        except KeyboardInterrupt:
            raise  # recorded below as "cancelled"
        except Exception as exc:  # a bug, or a fault from outside agentlab: recorded as what it is
            log.abort(exc)
            raise
        finally:
            log.finish(reason, answer)  # also on Ctrl-C: the journal says the run ended, and how
        return FanOutResult(answer, reason, state.plans, state.results, trace, self.clock() - start)

    def _rounds(
        self, goal: str, run_id: str, state: _RunState, trace: Trace, log: DurableRun, dispatcher: Dispatcher
    ) -> tuple[StopReason, str]:
        plan: Plan | None = self.plan(goal, trace, log)
        round_no = 0
        while plan is not None:
            round_no += 1
            state.plans.append(plan)
            for task in plan.tasks:
                state.origins[task.id] = task.origin
                self._observe("planned", task, {"round": round_no})
            record = log.recorder()
            post = poster(self.board, run_id) if self.board is not None else None

            def observe(
                event: str, task: SubTask, info: dict[str, Any], record: Observer = record, post: Observer | None = post
            ) -> None:
                if event == "planned":  # a fresh re-plan made inside the round
                    state.origins[task.id] = task.origin
                record(event, task, info)
                if post is not None:
                    post(event, task, info)
                self._observe(event, task, info)

            results = run_round(
                dispatcher,
                plan,
                self.policy,
                run_id,
                observe,
                state.earlier(),
                log.replayed(plan),
                self.clock,
                log.flush,
            )
            state.add(plan, results, trace, self.clock())
            reason, answer, plan = self.reduce(goal, state, round_no, trace, log)
            if reason is not None:
                return reason, answer
        raise AssertionError("unreachable: reduce returns a reason or a plan")


class _RunState:
    """What a run has learned so far: every result, and the latest result of each planned sub-task."""

    def __init__(self) -> None:
        self.plans: list[Plan] = []
        self.results: list[SubTaskResult] = []
        self.origins: dict[str, str] = {}  # sub-task id → the planned sub-task it stands for
        self.goals: dict[str, str] = {}
        self.by_origin: dict[str, SubTaskResult] = {}

    def add(self, plan: Plan, results: dict[str, SubTaskResult], trace: Trace, now: float) -> None:
        for r in results.values():  # in the order they settled: a re-plan's result follows the one it redoes
            task = plan.task(r.id)
            self.origins[r.id], self.goals[r.id] = task.origin, task.goal
            self.by_origin[task.origin] = r
            detail = r.error or r.worker if not r.ok else r.worker
            trace.add(f"{r.role}:{r.id}", task.goal, r.start or now, r.end or now, r.state, detail or "")
        self.results.extend(results.values())

    def latest(self) -> list[SubTaskResult]:
        return sorted(self.by_origin.values(), key=lambda r: r.id)

    def earlier(self) -> dict[str, SubTaskResult]:
        """For every id seen so far, the latest result of the planned sub-task it stands for."""
        return {tid: self.by_origin[o] for tid, o in self.origins.items() if o in self.by_origin}

    def usable_ids(self) -> list[str]:
        """Ids a next round may depend on: those whose planned sub-task has a result."""
        return [tid for tid, r in self.earlier().items() if r.ok]

    def verdict(self, answer: str) -> tuple[StopReason, str, None]:
        """How a run the reduce step ended stands: an answer needs text and at least one sub-task's result."""
        if not any(r.ok for r in self.by_origin.values()):
            why = "; ".join(f"{r.id}: {r.state} ({r.error})" for r in self.latest()) or "nothing ran"
            # executors that all stopped on a spent budget: the run ran out of budget, say so
            spent = self.by_origin and all((r.error or "").startswith("budget") for r in self.by_origin.values())
            return "budget" if spent else "no_answer", f"No sub-task produced a result ({why}).", None
        if not answer.strip():
            return "no_answer", "The reduce step ended without an answer.", None
        return "answer", answer, None

    def partial(self, rounds: int) -> str:
        found = " ".join(r.value for r in self.latest() if r.ok)
        missing = ", ".join(r.id for r in self.latest() if not r.ok)
        return f"Out of rounds after {rounds}; still missing: {missing or 'nothing'}. Found so far: {found or '-'}"
