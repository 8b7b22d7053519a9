"""Dispatchers: how a fan-out's sub-tasks reach the workers, and the plain way: one future each (lab 03).

Agent work is I/O-bound: a sub-task spends its time waiting on a model or a tool. What matters is how
close a fan-out's wall time comes to its critical path, and two costs stand in the way:

* **per-task scheduling.** One Dask future per sub-task costs ~1–3 ms of scheduler work and a ~10 ms
  submit→result floor from batched messages; 1,000 sub-tasks pay that 1,000 times.
* **slots.** A worker runs at most `nthreads` tasks at once, and `async def` tasks still take a slot,
  so 1,000 waiting sub-tasks need 1,000 slots — or they queue.

`FuturesDispatcher` is the plain way: one future per sub-task. Every sub-task is a task in the Dask
dashboard, and Dask re-runs it elsewhere if its worker dies. It is right for a handful of slow steps.

`agentlab.fanout.lanes` is the other way, for many I/O-bound steps. Either way execution is at-least-once,
which is why results are taken once per sub-task id.
"""

from __future__ import annotations

import asyncio
import queue
import time
from typing import TYPE_CHECKING, Any, Protocol

from distributed import Client, Future
from distributed.protocol import pickle

from agentlab.errors import ClusterError
from agentlab.identity import Work
from agentlab.steps import SubTaskResult

if TYPE_CHECKING:
    from agentlab.fanout.runners import Runner

__all__ = [
    "Dispatcher",
    "FuturesDispatcher",
    "as_result",
    "check_runner",
    "cluster_lost",
    "failed",
    "scheduler_answers",
]


class Dispatcher(Protocol):
    """How a round hands sub-tasks to workers and hears back; keys are each copy's `Work.flight`."""

    def submit(self, work: Work) -> None: ...
    def flush(self) -> None: ...
    def completed(self, timeout: float | None) -> list[tuple[str, SubTaskResult]]: ...
    def cancel(self, key: str) -> None: ...
    def close(self) -> None: ...


def check_runner(runner: Runner) -> None:
    """Fail now, clearly, if the runner cannot be sent to the workers (rather than deep inside Dask)."""
    try:
        pickle.dumps(runner)
    except Exception as exc:
        raise ClusterError(
            f"the runner {type(runner).__name__} cannot be sent to the workers ({type(exc).__name__}: {exc}); "
            "runners and the models they hold must pickle: no locks, open files or sockets in them"
        ) from exc


def scheduler_answers(client: Client, within: float) -> bool:
    """Whether the scheduler answers a question within `within` seconds (else this client is cut off from
    it, or it is gone: either way the cluster is lost to us)."""

    async def ask() -> None:
        assert client.scheduler is not None  # a client that ever connected
        await asyncio.wait_for(client.scheduler.identity(), within)

    try:
        client.sync(ask)
    except Exception:  # timed out, refused, or the client is closed
        return False
    return True


def cluster_lost(client: Client, why: str, silence: float) -> ClusterError:
    """The error that ends a run whose client can no longer reach the cluster (the CLI exits 2 on it)."""
    where = getattr(client.scheduler, "address", "?")
    return ClusterError(
        f"lost the cluster: {why}, and the scheduler at {where} did not answer within {silence:g} s either. "
        "This client is cut off from the cluster (or the cluster is gone); run again once it is reachable "
        "(a journaled run resumes with the same run id)"
    )


def failed(work: Work, why: str) -> SubTaskResult:
    return work.result("failed", "", why)


def as_result(work: Work, value: Any) -> SubTaskResult:
    if isinstance(value, SubTaskResult):
        return value
    return work.result("failed", "", f"the runner returned a {type(value).__name__}, not a SubTaskResult")


class FuturesDispatcher:
    """One Dask future per sub-task copy (keyed by the copy's identity)."""

    def __init__(self, client: Client, runner: Runner, silence: float = 30.0) -> None:
        """`silence`: seconds without any result before the scheduler is asked whether it is still there
        (`FanOutPolicy.silence`); if it does not answer within as long, the cluster is lost (`ClusterError`)."""
        check_runner(runner)
        self.client, self.runner, self.silence = client, runner, silence
        self.heard = time.monotonic()  # when the cluster last answered
        self.futures: dict[str, tuple[Work, Future[Any]]] = {}
        self.finished: queue.Queue[str] = queue.Queue()  # keys, pushed by the futures' done callbacks

    def submit(self, work: Work) -> None:
        try:
            future = self.client.submit(self.runner, work, key=work.flight, pure=False)
        except Exception as exc:  # serialisation, or a closed client: the cluster cannot take the work
            raise ClusterError(f"could not submit {work.task.id} to the cluster: {type(exc).__name__}: {exc}") from exc
        self.futures[work.flight] = (work, future)
        future.add_done_callback(lambda _, key=work.flight: self.finished.put(key))

    def flush(self) -> None:
        """Futures are submitted as they come."""

    def completed(self, timeout: float | None) -> list[tuple[str, SubTaskResult]]:
        if not self.futures:
            return []
        wait = self.silence if timeout is None else min(timeout, self.silence)
        try:
            keys = [self.finished.get(timeout=wait)]
        except queue.Empty:
            self._check_cluster()
            return []
        self.heard = time.monotonic()
        while not self.finished.empty():
            keys.append(self.finished.get_nowait())
        done, ready = [], []
        for key in keys:
            entry = self.futures.pop(key, None)
            if entry is None:
                continue  # cancelled: nobody waits for it any more
            work, future = entry
            if future.status not in ("finished", "error", "cancelled"):
                # "lost": its worker died holding the result; Dask recomputes it, so wait for it again
                self.futures[key] = entry
                future.add_done_callback(lambda _, key=key: self.finished.put(key))
            elif future.status == "finished":
                ready.append((key, work, future))
            else:
                error = future.exception() if future.status == "error" else future.status
                done.append((key, failed(work, f"{type(error).__name__}: {error}")))
        # one gather for every finished result, not one fetch (a round trip to its worker) each
        values = self.client.gather([future for _, _, future in ready], errors="skip") if ready else []
        if len(values) == len(ready):
            done += [(key, as_result(work, value)) for (key, work, _), value in zip(ready, values, strict=True)]
        else:  # some result was lost on the way (its worker died): take them one by one
            done += [(key, self._one(work, future)) for key, work, future in ready]
        return done

    @staticmethod
    def _one(work: Work, future: Future[Any]) -> SubTaskResult:
        try:
            return as_result(work, future.result())
        except Exception as exc:
            return failed(work, f"{type(exc).__name__}: {exc}")

    def _check_cluster(self) -> None:
        """After `silence` seconds without a result, ask the scheduler; silent too: the cluster is lost."""
        if time.monotonic() - self.heard < self.silence:
            return
        if not scheduler_answers(self.client, self.silence):
            raise cluster_lost(self.client, f"no result came for {self.silence:g} s", self.silence)
        self.heard = time.monotonic()

    def cancel(self, key: str) -> None:
        entry = self.futures.pop(key, None)
        if entry:
            entry[1].cancel()  # stops it if queued; a running thread finishes, unread

    def close(self) -> None:
        for key in list(self.futures):
            self.cancel(key)
