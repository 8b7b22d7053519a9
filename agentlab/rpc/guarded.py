"""Guarded tool calls: the driver that carries out each tool's RPC contract (lab 02).

`GuardedToolbox` is a `Toolbox` whose calls go through, in order:

    approval  → refused and logged unless the tool is on the approved list
    validate  → bad arguments are the model's fault: an error observation, no call
    key       → the idempotency key, from what the call is: (run, tool, validated arguments)
    retry     → tenacity runs the attempts; `agentlab.rpc.contract` decides waits and whether to retry
      breaker → an open circuit refuses at once (CircuitOpen), half-open lets one probe through
      limit   → the service's token bucket may make the call wait its turn
      timeout → the attempt runs on its own thread; past the timeout it is abandoned, and a result
                that arrives later is recorded as "late" and otherwise ignored
    fallback  → when every attempt failed, the policy's fallback may still answer

A Python thread cannot be killed, so a timeout here bounds the *caller's wait*, not the work: code that
must really be stopped runs where it can be killed (the sandbox's subprocess, a separate Dask task).
Inside a tool, `idempotency_key()` gives the current call's key to pass on to its service, and
`current_call()` the call itself, whose `progress(text)` adds a "progress" row to the trace (a long MCP
tool's progress notifications arrive this way). The key names
the effect, not the sub-task asking for it (`agentlab.identity.effect_key`): every attempt, copy or re-plan
that makes the same call in the same run — however the model worded its goal — presents the same key.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import tenacity

from agentlab.agent.tools import Observation, Tool, Toolbox
from agentlab.errors import CircuitOpen, NotApproved, ServiceError, ToolFailed, ToolTimeout
from agentlab.identity import StepId, effect_key
from agentlab.rpc import contract as rpc
from agentlab.trace import Event
from agentlab.wire import ToolCall

__all__ = ["CurrentCall", "GuardedToolbox", "RpcEvent", "Services", "current_call", "idempotency_key"]

log = logging.getLogger("agentlab.rpc.contract")
_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("agentlab_idempotency_key", default=None)


def idempotency_key() -> str | None:
    """The idempotency key of the tool call running on this thread (None outside a guarded call)."""
    return _KEY.get()


@dataclass(frozen=True)
class CurrentCall:
    """The guarded call a tool is running in: which tool, its key, its run and sub-task, and its trace."""

    tool: str
    key: str
    run_id: str
    label: str
    """The sub-task's id when the toolbox belongs to one (else "")."""
    attempt: int
    record: Callable[[str, str], None]
    """Adds a trace row (outcome, detail) to this call's toolbox."""

    def progress(self, text: str) -> None:
        """A "progress" row in the trace: the tool is still working, and says how far it got."""
        self.record("progress", text)


_CALL: contextvars.ContextVar[CurrentCall | None] = contextvars.ContextVar("agentlab_current_call", default=None)


def current_call() -> CurrentCall | None:
    """The guarded call running on this thread (None outside one)."""
    return _CALL.get()


@dataclass(frozen=True)
class RpcEvent:
    """One attempt (or refusal, or late result) of one guarded call."""

    tool: str
    key: str
    attempt: int
    outcome: str
    start: float
    end: float
    detail: str = ""

    def as_event(self, run_id: str) -> Event:
        """This attempt as a trace row: who = "rpc:<tool>", what = the attempt and its key."""
        what = f"attempt {self.attempt} key {self.key}" if self.attempt else f"{self.outcome} key {self.key}"
        return Event(run_id, f"rpc:{self.tool}", what, self.start, self.end, self.outcome, self.detail, self.tool)


class Services:
    """Per-service runtime state — breakers and rate-limit buckets — with an injectable clock and sleep."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep, seed: int = 0
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.rng = random.Random(seed)
        self._breakers: dict[str, rpc.BreakerState] = {}
        self._buckets: dict[str, rpc.Bucket] = {}
        self._lock = threading.Lock()

    def breaker(self, service: str) -> rpc.BreakerState:
        """The breaker of `service` as it stands (what the lab's breaker display shows)."""
        return self._breakers.get(service, rpc.BreakerState())

    def admit(self, service: str, policy: rpc.BreakerPolicy) -> None:
        with self._lock:
            allowed, self._breakers[service] = rpc.admit(self.breaker(service), policy, self.clock())
        if not allowed:
            raise CircuitOpen(f"the circuit for {service} is open: refusing without calling it")

    def record(self, service: str, policy: rpc.BreakerPolicy, ok: bool) -> None:
        with self._lock:
            self._breakers[service] = rpc.record(self.breaker(service), policy, ok, self.clock())

    def wait_turn(self, service: str, limit: rpc.RateLimit) -> float:
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(service, rpc.Bucket(float(limit.burst), now))
            wait, self._buckets[service] = rpc.take_token(bucket, limit, now)
        if wait > 0:
            self.sleep(wait)
        return wait


class GuardedToolbox(Toolbox):
    """A toolbox that holds every call to its tool's `ToolPolicy` (see the module docstring)."""

    def __init__(
        self,
        tools: Sequence[Tool],
        policies: Mapping[str, rpc.ToolPolicy] | None = None,
        *,
        default: rpc.ToolPolicy | None = None,
        approved: Collection[str] | None = None,
        run_id: str = "run",
        path: str | None = None,
        step: StepId | None = None,
        services: Services | None = None,
    ) -> None:
        """Idempotency keys are scoped by `step`'s run (how agentlab's executors call it), else by
        (`run_id`, `path`); with neither, this toolbox's calls share keys with no other toolbox's."""
        super().__init__(tools)
        self.policies = dict(policies or {})
        self.default = default or rpc.ToolPolicy()
        self.approved = None if approved is None else frozenset(approved)
        self.step = step
        self.run_id = step.run_id if step else run_id
        # the run an effect belongs to: a sub-task's run, or for a toolbox made by hand its own (run_id, path)
        self.scope = step.run_id if step else f"{run_id}/{path if path is not None else uuid.uuid4().hex}"
        self.services = services or Services()
        self.events: list[RpcEvent] = []
        self._lock = threading.Lock()

    def policy(self, name: str) -> rpc.ToolPolicy:
        return self.policies.get(name, self.default)

    def events_frame(self) -> pd.DataFrame:
        return pd.DataFrame([e.__dict__ for e in self.events])

    def trace_events(self, run_id: str | None = None) -> list[Event]:
        """Every attempt, refusal and late result so far, as trace rows."""
        return [e.as_event(run_id or self.run_id) for e in self.events]

    def key(self, found: Tool, args: dict[str, Any]) -> str:
        """The idempotency key of a call: the tool and its validated arguments in this toolbox's `scope`,
        never the attempt, the copy or the words of the sub-task's goal."""
        return effect_key(self.scope, found.name, found.canonical(args))

    def _event(self, *args: Any) -> None:
        with self._lock:
            self.events.append(RpcEvent(*args))

    def call(self, call: ToolCall) -> Observation:
        start = time.time()
        if self.approved is not None and call.name not in self.approved:
            refusal = NotApproved(f"{call.name!r} is not an approved tool; the call was refused and logged")
            log.warning("refused unapproved call %s(%s) (run_id=%r)", call.name, call.arguments[:200], self.run_id)
            self._event(call.name, "", 0, "refused", start, time.time(), call.arguments[:200])
            return Observation(call.id, call.name, f"error: {refusal}", False, "NotApproved", start, time.time())
        return super().call(call)  # validation, then run_tool below; failures come back as observations

    def run_tool(self, found: Tool, args: dict[str, Any]) -> Any:
        """Run one validated call under its policy (Toolbox.call calls this)."""
        policy = self.policy(found.name)
        key = self.key(found, args)
        attempts = policy.retry.attempts if policy.idempotent or policy.forwards_key else 1
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=lambda state: rpc.backoff(
                policy.retry, state.attempt_number, self.services.rng, _retry_after(state.outcome)
            ),
            retry=tenacity.retry_if_exception(lambda error: rpc.is_retryable(error, policy.retry)),
            sleep=self.services.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:  # the attempt's number comes from the retry state, not from a log scan
                with attempt:
                    value = self._attempt(found, args, policy, key, attempt.retry_state.attempt_number)
            return value
        except ToolFailed:
            if policy.fallback is None:
                raise
            self._event(found.name, key, 0, "fallback", time.time(), time.time())
            return policy.fallback(**args)

    def _attempt(self, found: Tool, args: dict[str, Any], policy: rpc.ToolPolicy, key: str, attempt: int) -> Any:
        service = policy.service or found.name
        start = time.time()
        try:
            if policy.breaker:
                self.services.admit(service, policy.breaker)
            if policy.rate_limit:
                self.services.wait_turn(service, policy.rate_limit)
            value = self._with_timeout(found, args, policy.timeout, self._current(found, key, attempt))
        except CircuitOpen as exc:
            self._event(found.name, key, attempt, "circuit_open", start, time.time(), str(exc))
            raise
        except Exception as exc:
            if policy.breaker:
                self.services.record(service, policy.breaker, False)
            self._event(found.name, key, attempt, type(exc).__name__, start, time.time(), str(exc)[:200])
            if isinstance(exc, ToolFailed):
                raise
            raise ToolFailed(f"{found.name} failed: {type(exc).__name__}: {exc}") from exc
        if policy.breaker:
            self.services.record(service, policy.breaker, True)
        self._event(found.name, key, attempt, "ok", start, time.time())
        return value

    def _current(self, found: Tool, key: str, attempt: int) -> CurrentCall:
        def record(outcome: str, detail: str) -> None:
            now = time.time()
            self._event(found.name, key, attempt, outcome, now, now, detail[:200])

        return CurrentCall(found.name, key, self.run_id, self.step.label if self.step else "", attempt, record)

    def _with_timeout(self, found: Tool, args: dict[str, Any], timeout: float | None, call: CurrentCall) -> Any:
        key = call.key
        if timeout is None:  # nothing to abandon: the call runs on the caller's thread, with its key
            tokens = _KEY.set(key), _CALL.set(call)
            try:
                return found.fn(**args)
            finally:
                _KEY.reset(tokens[0])
                _CALL.reset(tokens[1])
        box: dict[str, Any] = {}
        abandoned = threading.Event()

        def run() -> None:
            _KEY.set(key)
            _CALL.set(call)
            started = time.time()
            try:
                box["value"] = found.fn(**args)
            except BaseException as exc:  # handed to the caller's thread below
                box["error"] = exc
            if abandoned.is_set():  # the caller gave up: record that the result came, and ignore it
                self._event(found.name, key, 0, "late", started, time.time(), "result ignored after timeout")

        worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            abandoned.set()
            raise ToolTimeout(f"{found.name} did not answer within {timeout:g} s; the call was abandoned")
        if "error" in box:
            raise box["error"]
        return box["value"]


def _retry_after(outcome: Any) -> float | None:
    error = outcome.exception() if outcome is not None else None
    return error.retry_after if isinstance(error, ServiceError) else None
