"""Durable runs: the supervisor's side of the journal — replay what is recorded, record what is new (lab 04).

Running a run id again after a crash (the kernel died, the CLI was killed, the machine rebooted)
replays from the journal every step that finished — the planning and reduce replies the supervisor
depends on, and each sub-task's result — and runs only the rest. Steps are found by their content key
(`agentlab.identity.step_key`), never by position, so a resumed run that finishes sub-tasks in another
order still finds each one's own result. Replayed model replies make the resumed run reach the same
answer; idempotency keys at the services make side effects happen once (`agentlab.course.payments`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import Any

from agentlab.durable.journal import (
    JournalStore,
    Step,
    completed,
    decode_reply,
    decode_result,
    encode_reply,
    encode_result,
    subtask_key,
)
from agentlab.errors import JournalMismatch, JournalUnavailable
from agentlab.events import Observer, RoundEvent
from agentlab.fanout.plan import Plan
from agentlab.identity import KEY_SCHEME, model_step_key
from agentlab.steps import StopReason, SubTask, SubTaskResult
from agentlab.wire import ModelReply

__all__ = ["DurableRun", "StepKey"]

StepKey = Callable[[str, SubTask], str]
"""How the journal names a sub-task's step: (run id, sub-task) -> key. agentlab's is `subtask_key`."""

_STILL_RUNNING = "it is still marked running there, and running the same run id again resumes it"

REPLAYABLE = ("done", "failed", "blocked")
"""Results a resume takes as they were. Timed-out and cancelled sub-tasks have no result: they run again."""


class DurableRun:
    """One run as the supervisor journals it; with no store it records nothing and replays nothing.

    Starting a run id the journal knows resumes it — unless it was recorded under another goal or another
    key scheme (`agentlab.identity.KEY_SCHEME`), which is refused (`JournalMismatch`): its finished steps
    could not be found by this run's keys, so they would silently run again.
    """

    def __init__(self, store: JournalStore | None, run_id: str, goal: str, step_key: StepKey | None = None) -> None:
        """`step_key`: how a sub-task's step is named in the journal; None (the default) is agentlab's own,
        `subtask_key` (the simulator plugs a learner's rule in here, lab 04)."""
        self.store, self.run_id, self.step_key = store, run_id, step_key
        self.done: dict[str, Step] = {}
        self.unwritten: list[Step] = []  # sub-task results observed since the last `flush`
        if store is not None:
            known = store.run(run_id)
            scheme = known.meta.get("key_scheme", 1) if known else KEY_SCHEME
            if scheme != KEY_SCHEME:
                raise JournalMismatch(
                    f"run {run_id!r} was journaled under key scheme {scheme}; this agentlab uses {KEY_SCHEME}, "
                    "so its finished steps cannot be found and would run again: start it under a new run id"
                )
            store.start_run(run_id, goal, {"key_scheme": KEY_SCHEME})
            self.done = completed(store, run_id)

    def key(self, task: SubTask) -> str:
        """The journal key of this sub-task's step."""
        return subtask_key(self.run_id, task) if self.step_key is None else self.step_key(self.run_id, task)

    def _record(self, key: str, kind: str, path: str, payload: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.append(Step(self.run_id, key, kind, path, "done", payload))

    def model_step(self, path: str, prompt: str, call: Callable[[], ModelReply]) -> tuple[ModelReply, bool]:
        """The reply for the model step at `path` with this prompt: recorded, or made now and recorded."""
        key = model_step_key(self.run_id, path, prompt)
        if key in self.done:
            return decode_reply(self.done[key].payload), True
        reply = call()
        self._record(key, "model", path, encode_reply(reply))
        return reply, False

    def replayed(self, plan: Plan) -> dict[str, SubTaskResult]:
        """Recorded results for this plan's sub-tasks, by sub-task id."""
        found = {}
        for task in plan.tasks:
            result = self.recall(task)
            if result is not None:
                found[task.id] = result
        return found

    def recall(self, task: SubTask) -> SubTaskResult | None:
        """The recorded result of this sub-task's step, if it has one a resume may take as it was.

        The step is found by what it is, not by its id: a resumed run may name the same work otherwise (a
        fresh re-plan's id depends on what timed out before), so the result takes this run's id."""
        step = self.done.get(self.key(task))
        if step is None:
            return None
        result = decode_result(step.payload)
        if result.state not in REPLAYABLE:
            return None
        return result if result.id == task.id else replace(result, id=task.id)

    def recorder(self) -> Observer:
        """An observer that takes each sub-task's result the moment it is settled; `flush` writes them.

        Pass `flush` as `run_round(..., settled=...)`: the round calls it after each batch of results it
        hears of, so a whole batch is one commit, and before it returns, so every result a round
        returns is in the journal. Work that depends on a result may be on its way before that
        result's commit; if the process dies in between, a resume runs the result's sub-task again
        (execution is at-least-once; idempotency keys keep its side effects single)."""

        def record(event: RoundEvent) -> None:
            if self.store is None or event.kind not in ("done", "failed") or event.result is None:
                return
            task = event.task
            key = event.step.journal if event.step and self.step_key is None else self.key(task)
            path = f"r{task.round}/{task.id}"
            self.unwritten.append(Step(self.run_id, key, "subtask", path, "done", encode_result(event.result)))

        return record

    def flush(self) -> None:
        """Write the results recorded since the last flush, in one commit."""
        if self.store is not None and self.unwritten:
            steps, self.unwritten = self.unwritten, []
            self.store.append_many(steps)

    def abort(self, error: Exception) -> None:
        """Record a run that ended in a fault rather than a stop reason (the cluster, the configuration,
        the journal itself). If the journal cannot take even that (read-only, full, locked), the error
        raised says so: the run stays "running" there, and the same run id resumes it."""
        store, self.store = self.store, None  # recorded (or given up on): a later finish() must not overwrite it
        unwritten, self.unwritten = self.unwritten, []
        if store is None:
            return
        try:
            # unrecorded results run again on resume; marking the run failed matters more (and is smaller)
            with suppress(JournalUnavailable):
                if unwritten:
                    store.append_many(unwritten)
            store.finish_run(self.run_id, "failed", f"{type(error).__name__}: {error}", type(error).__name__)
        except JournalUnavailable as fault:
            if isinstance(error, JournalUnavailable):
                raise JournalUnavailable(f"{error}; the run could not be marked failed: {_STILL_RUNNING}") from error
            ended = f"{type(error).__name__}: {error}"
            raise JournalUnavailable(f"{fault}; so the run's end ({ended}) is unrecorded: {_STILL_RUNNING}") from error

    def finish(self, reason: StopReason, answer: str) -> None:
        """Record how the run ended: "finished" with an answer, "failed" (with the reason) otherwise."""
        try:
            self.flush()
        except JournalUnavailable as fault:  # its last results are not recorded: the run did not end well
            self.abort(fault)  # marks it failed if the file still takes that much (else raises, saying so)
            raise
        if self.store is None:
            return
        status = "finished" if reason == "answer" else "failed"
        try:
            self.store.finish_run(self.run_id, status, answer, reason)
        except JournalUnavailable as fault:
            raise JournalUnavailable(f"{fault}; the run could not be marked {status}: {_STILL_RUNNING}") from fault
