"""The supervisor: plan → fan out to role executors on Dask → gather → reduce, round after round (lab 03).

    1. Plan: one model step, offered `make_plan`, turns the goal into a sub-task DAG (Figure 40.6.2).
    2. Fan out: ready sub-tasks run on the workers, each its own ReAct loop, by the round's policy
       (all / any / quorum / deadline; timeouts, re-plans, hedges: `agentlab.fanout.round`).
    3. Reduce: one model step reads every finding and either calls `finish` or `replan`s the missing
       work as another round (each new sub-task naming the one it `replaces`), up to `max_rounds`.
    4. End truthfully, with one of `agentlab.steps.STOP_REASONS`: "answer" only if the reduce step
       finished with an answer built on at least one sub-task's result; "budget" if a sub-task's
       loop, or the supervisor's own step, was refused by the shared budget; "no_answer" if no sub-task
       produced a result; "max_rounds" if the reduce step still wanted another round on the last; a
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
from typing import Any, Literal

from distributed import Client

from agentlab.durable.journal import JournalStore
from agentlab.durable.run import DurableRun, StepKey
from agentlab.errors import AgentlabError, InvalidArguments, UsageError
from agentlab.events import Observer, RoundEvent
from agentlab.fanout.findings import FindingsBoard, board_rows, poster
from agentlab.fanout.futures import Dispatcher, FuturesDispatcher
from agentlab.fanout.gather import Finish, Replan, RunState, Verdict
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan
from agentlab.fanout.report import FanOutResult
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner, Runner
from agentlab.models.base import Model
from agentlab.models.chat import ChatModel
from agentlab.prompts import FINISH_TOOL, PLAN_TOOL, REPLAN_TOOL, findings_block, reduce_prompt
from agentlab.steps import StopReason
from agentlab.trace import Trace
from agentlab.wire import ModelReply

__all__ = ["PLAN_ARGUMENT_CHARS", "FanOutResult", "PlanRejected", "Supervisor"]

PLANNER_PROMPT = (
    "You are a supervisor. Split the goal into sub-tasks for executor agents (roles: researcher, "
    "coder, analyst, critic); make independent sub-tasks independent so they run in parallel."
)
REDUCER_PROMPT = (
    "You are a supervisor. Read the findings; finish with the answer, or replan the missing work "
    "(each new sub-task naming the earlier one it replaces)."
)


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
        context: str = "",
        step_key: StepKey | None = None,
    ) -> None:
        """`dispatch`: "lanes" (batched actor lanes, for many I/O-bound steps), "futures" (one Dask future
        per sub-task, each visible in the dashboard), or a function runner → dispatcher (such as
        `agentlab.testing.InlineDispatcher`, which needs no cluster: then `client` may be None).
        `journal`: where runs are recorded; running a run id again resumes it (`agentlab.durable.run`).
        `clock`: the time the rounds decide by (a fake clock in tests).
        `board`: a shared findings board (`agentlab.memory.Blackboard`): each finding is posted there, and the
        reduce step also reads what others posted (`agentlab.fanout.findings`).
        `context`: what the executors work with (`agentlab.prompts.collections_block`), told to the plan and
        reduce steps after the goal.
        `step_key`: how the journal names a sub-task's step (None: agentlab's own; see `DurableRun`)."""
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
        self.context = context
        self.step_key = step_key

    def _observe(self, event: RoundEvent) -> None:
        for observer in self.observers:
            observer(event)

    def _dispatcher(self, runner: Runner) -> Dispatcher:
        if callable(self.dispatch):
            return self.dispatch(runner)
        assert self.client is not None  # checked in __init__
        if self.dispatch == "lanes":
            return LaneDispatcher(self.client, runner, silence=self.policy.silence)
        return FuturesDispatcher(self.client, runner, silence=self.policy.silence)

    def _step(
        self,
        trace: Trace,
        log: DurableRun,
        what: str,
        path: str,
        prompt: str,
        tools: list[dict[str, Any]],
    ) -> ModelReply:
        start = self.clock()
        model = _supervising(self.model)
        messages = [
            {"role": "system", "content": PLANNER_PROMPT if what == "plan" else REDUCER_PROMPT},
            {"role": "user", "content": prompt},
        ]
        try:
            reply, replayed = log.model_step(path, prompt, lambda: model.complete(messages, tools))
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
        """The planning step. A plan the model gets wrong is noted in the trace and raises `PlanRejected`:
        the run reports it, never swaps in a plan of its own. A wide plan's arguments may be as long as
        the model's whole reply (`PLAN_ARGUMENT_CHARS`): 10,000 sub-tasks are a plan, not a runaway call.
        When the planning step's reply comes back cut at `max_tokens`, the rejection says so."""
        prompt = f"{goal}\n\n{self.context}" if self.context else goal
        reply = self._step(trace, log, "plan", "plan", prompt, [PLAN_TOOL])
        call = next((c for c in reply.tool_calls if c.name == "make_plan"), None)
        try:
            if call is None:
                raise InvalidArguments("the planner did not call make_plan")
            return Plan.from_spec(_arguments(call.arguments))
        except InvalidArguments as exc:
            cut = " (the reply was cut at max_tokens: raise --max-tokens)" if reply.finish_reason == "length" else ""
            trace.add("supervisor", "plan rejected", self.clock(), self.clock(), "InvalidArguments", f"{exc}{cut}")
            raise PlanRejected(f"{exc}{cut}") from exc

    def reduce(self, goal: str, state: RunState, round_no: int, trace: Trace, log: DurableRun) -> Verdict:
        """The reduce step over the latest result of every planned sub-task: `Finish` the run, or `Replan`
        the missing work as the next round. A call with arguments the model got wrong is noted in the trace
        and skipped; with no usable call, the reply's text is the answer (if there is a result behind it)."""
        # in a fixed order, so a resumed run asks the reduce step the very same question (and replays it)
        rows: list[tuple[str, str, str, str, str]] = [
            (r.id, r.role, r.state, state.goals.get(r.id, ""), r.value or r.error or "") for r in state.latest()
        ]
        if self.board is not None:
            rows += board_rows(self.board, log.run_id)
        prompt = reduce_prompt(goal, round_no, self.policy.max_rounds, findings_block(rows), _headers(self.context))
        reply = self._step(trace, log, "reduce", f"r{round_no}/reduce", prompt, [FINISH_TOOL, REPLAN_TOOL])
        for call in reply.tool_calls:
            try:
                verdict = self._decision(call.name, _arguments(call.arguments), state, round_no)
            except InvalidArguments as exc:
                trace.add("supervisor", "reduce rejected", self.clock(), self.clock(), "InvalidArguments", str(exc))
                continue
            if verdict is not None:
                return verdict
        return state.verdict(reply.content or "")

    def _decision(self, name: str, args: dict[str, Any], state: RunState, round_no: int) -> Verdict | None:
        """What one `finish` or `replan` call decides (None for a call to another tool)."""
        if name == "finish":
            answer = args.get("answer")
            if not isinstance(answer, str):
                raise InvalidArguments("finish needs an answer (a string)")
            return state.verdict(answer)
        if name != "replan":
            return None
        if round_no >= self.policy.max_rounds:
            return state.verdict("") if state.cut_off() else Finish("max_rounds", state.partial(self.policy.max_rounds))
        plan = Plan.from_spec(args, earlier=state.usable_ids(), round_no=round_no + 1, origins=state.origins)
        return Replan(plan)

    def run(self, goal: str, run_id: str | None = None) -> FanOutResult:
        """Answer `goal` by fanning out; the result says truthfully how the run ended (never raises for a
        model that fails: that is a "model_error" result)."""
        run_id = run_id or uuid.uuid4().hex[:12]
        runner: Runner = self.runner or AgentRunner(self.model)
        trace, state, start = Trace(run_id), RunState(), self.clock()
        log = DurableRun(self.journal, run_id, goal, self.step_key)  # refuses a mismatched resume before anything runs
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
            if reason == "budget":  # its own plan or reduce step was refused: say what the run had found
                answer = state.out_of_budget(why=f"the supervisor's step was refused ({exc})")
        except KeyboardInterrupt:
            raise  # recorded below as "cancelled"
        except Exception as exc:  # a bug, or a fault from outside agentlab: recorded as what it is
            log.abort(exc)
            raise
        finally:
            log.finish(reason, answer)  # also on Ctrl-C: the journal says the run ended, and how
        return FanOutResult(answer, reason, state.plans, state.results, trace, self.clock() - start)

    def _rounds(
        self, goal: str, run_id: str, state: RunState, trace: Trace, log: DurableRun, dispatcher: Dispatcher
    ) -> tuple[StopReason, str]:
        try:
            plan = self.plan(goal, trace, log)
        except PlanRejected as exc:
            return "no_answer", f"The planning step's plan was rejected, so nothing ran: {exc}"
        round_no = 0
        while True:
            round_no += 1
            state.plans.append(plan)
            for task in plan.tasks:
                state.origins[task.id] = task.origin
                self._observe(RoundEvent("planned", task, round=round_no))
            watchers = [log.recorder(), *([poster(self.board, run_id)] if self.board is not None else [])]

            def observe(event: RoundEvent, watchers: list[Observer] = watchers) -> None:
                if event.kind == "planned":  # a fresh re-plan made inside the round
                    state.origins[event.task.id] = event.task.origin
                for watch in watchers:
                    watch(event)
                self._observe(event)

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
                log.recall,
            )
            state.add(plan, results, trace, self.clock())
            verdict = self.reduce(goal, state, round_no, trace, log)
            if isinstance(verdict, Finish):
                return verdict.reason, verdict.answer
            plan = verdict.plan


class PlanRejected(InvalidArguments):
    """The planning step proposed no usable plan (the run ends "no_answer", saying why)."""


PLAN_ARGUMENT_CHARS = 8_000_000
"""The supervisor's steps' cap on their arguments (a plan, a re-plan, a finish naming every item): as long
as a reply may be (`ModelConfig.max_reply_bytes`). An executor's tool calls keep the model's own cap."""


def _supervising(model: Model) -> Model:
    """The model for the plan and reduce steps: a `ChatModel`'s argument cap raised to `PLAN_ARGUMENT_CHARS`."""
    if isinstance(model, ChatModel) and model.config.max_argument_chars < PLAN_ARGUMENT_CHARS:
        return model.with_options(max_argument_chars=PLAN_ARGUMENT_CHARS)
    return model


def _headers(context: str) -> str:
    """The context without its item lines: what the reduce step needs of it (the collections' rules)."""
    return "\n".join(line for line in context.splitlines() if not line.startswith("  "))


def _arguments(text: str) -> dict[str, Any]:
    """A tool call's arguments as a JSON object, or InvalidArguments saying what they were instead."""
    try:
        args = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArguments(f"the arguments are not JSON: {exc}") from exc
    if not isinstance(args, dict):
        raise InvalidArguments(f"the arguments are a JSON {type(args).__name__}, not an object")
    return args
