"""Lanes: one Dask actor per worker that streams many sub-tasks (labs 03 and 05; benchmarks/fanout.py).

Agent work is I/O-bound: a sub-task spends its time waiting on a model or a tool. What matters is how
close a fan-out's wall time comes to its critical path, and two costs stand in the way:

* **per-task scheduling.** One Dask future per sub-task costs ~1–3 ms of scheduler work and a ~10 ms
  submit→result floor from batched messages; 1,000 sub-tasks pay that 1,000 times.
* **slots.** A worker runs at most `nthreads` tasks at once, and `async def` tasks still take a slot,
  so 1,000 waiting sub-tasks need 1,000 slots — or they queue.

`LaneDispatcher` is agentlab's way for many I/O-bound steps. Each worker holds one *lane*, a Dask actor
that keeps the runner (sent once, not per sub-task). The client calls the lane directly (no scheduler
hop, no batching delay) with two methods:

* `start(batch)` starts a batch of sub-tasks on the worker's event loop — awaiting an async runner
  (`arun`), or in a lane thread pool for blocking runners — and answers at once;
* `collect(wait)` is a long poll: it answers with every result finished since the last call, waiting
  up to `wait` seconds for the first. One collecting call per lane is in flight while it holds work.

So results stream back as they finish whatever the batch size: one at a time when they trickle in, in
bulk when thousands finish together. A batch is pickled whole and sent as one bytes frame (Dask would
serialise a list element by element). Ready sub-tasks go out in geometric flushes (`eager`, then as many
as are in flight), each split into at most `calls_per_lane` calls per lane, so a 10,000-wide round has
its first sub-tasks running before the last are prepared.

Trade-offs, said plainly: lane work is not a Dask task, so the dashboard shows only the lanes, not the
sub-tasks (the trace still records each one, with its worker); and Dask will not reschedule it — when a
lane's worker dies, the dispatcher re-sends that lane's unfinished sub-tasks to the surviving lanes
itself. Either way execution is at-least-once, which is why results are taken once per sub-task id.
Cancelling a copy stops waiting for it; the lane still runs it to the end.

Partitions. A worker cut off from the client does not die, it goes silent: its calls neither answer nor
fail (TCP only gives up after minutes). A lane that leaves a call unanswered for `silence` seconds
beyond its long poll counts as lost, and its sub-tasks are re-sent — but first the scheduler is asked
who it is: if it is silent too, it is this client that is cut off, and re-sending would only lose the
work again, so the round ends with a `ClusterError` ("lost the cluster"). A lost lane is never given work
again, but the calls already on their way are still awaited: when the partition heals, their results
arrive late, and are counted (`late`) and not taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import math
import pickle as stdlib_pickle
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from distributed import Client, Future
from distributed.protocol import pickle

from agentlab.errors import ClusterError
from agentlab.fanout import quietgc
from agentlab.fanout.futures import as_result, check_runner, cluster_lost, failed, scheduler_answers
from agentlab.identity import Work
from agentlab.models.blocking import THREADS
from agentlab.steps import SubTaskResult

if TYPE_CHECKING:
    from agentlab.fanout.runners import Runner

__all__ = ["Lane", "LaneDispatcher", "pack", "unpack"]


def pack(value: Any) -> bytes:
    """A batch on the wire: one pickle of the whole list, sent as a single bytes frame.

    Dask would serialise a list element by element (each with its own header, ~25 µs a sub-task each
    way); one pickle of the batch costs ~5–7 µs a sub-task. Values a plain pickle cannot take (a result
    holding a lambda) go through Dask's pickle, which falls back to cloudpickle."""
    try:
        return stdlib_pickle.dumps(value, protocol=5)
    except Exception:
        return bytes(pickle.dumps(value))


def unpack(data: bytes) -> Any:
    return stdlib_pickle.loads(data)


class Lane:
    """A Dask actor on one worker: it starts sub-tasks as they arrive, runs them concurrently with one
    runner, and hands back the finished ones whenever the client collects them."""

    def __init__(self, runner: Runner, threads: int = THREADS, address: str | None = None) -> None:
        """`address`: where results say they ran (default: the Dask worker the actor is built on)."""
        from distributed import get_worker  # noqa: PLC0415  (the actor is built inside a task)

        self.runner = runner
        self.arun = getattr(runner, "arun", None)
        self.address = address or str(get_worker().address)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="agentlab-lane")
        self.running: set[asyncio.Task[tuple[str, SubTaskResult]]] = set()
        self.finished: list[tuple[str, SubTaskResult]] = []
        self.news = asyncio.Event()  # set when `finished` has something

    async def start(self, batch: bytes) -> int:
        """Start every sub-task of a packed list of `Work`; answers at once, with how many started."""
        works = unpack(batch)
        if works and not self.running:
            quietgc.hold()  # thousands of coroutines, timers and results live until they finish
        for work in works:
            task = asyncio.ensure_future(self._one(work))  # in this context: the runner sees its worker
            self.running.add(task)
            task.add_done_callback(self._done)
        await asyncio.sleep(0)  # let them start (up to their first wait) before the answer is written
        return len(works)

    async def collect(self, wait: float, linger: float = 0.0) -> bytes:
        """Every result finished since the last call (packed), waiting up to `wait` s for the first — and
        then, while results keep coming less than `linger` s apart (at most 10 × `linger` in all), for the
        rest of the burst: it rides in this reply instead of one a round trip later."""
        if not self.finished:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.news.wait(), wait)
        if linger > 0 and self.finished:
            until = asyncio.get_running_loop().time() + 10 * linger
            while self.running and asyncio.get_running_loop().time() < until:
                self.news.clear()
                try:
                    await asyncio.wait_for(self.news.wait(), linger)
                except TimeoutError:
                    break
        finished, self.finished = self.finished, []
        self.news.clear()
        return pack(finished)

    def _done(self, task: asyncio.Task[tuple[str, SubTaskResult]]) -> None:
        self.running.discard(task)
        try:
            if not task.cancelled():
                self.finished.append(task.result())
                self.news.set()
        finally:
            if not self.running:
                quietgc.release()

    async def _one(self, work: Work) -> tuple[str, SubTaskResult]:
        try:
            if self.arun is not None:  # an AsyncRunner waits without a thread
                value = await self.arun(work)
            else:
                call = functools.partial(contextvars.copy_context().run, self.runner, work)
                value = await asyncio.get_running_loop().run_in_executor(self.pool, call)
            result = as_result(work, value)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a crash, even a runner's sys.exit(), is this sub-task's failure, not the lane's
            result = failed(work, f"{type(exc).__name__}: {exc}")
        if not result.worker or result.worker.startswith("pid:"):
            result = replace(result, worker=self.address)
        return work.flight, result


class _LaneHandle:
    """A lane as the client knows it: where it lives, its actor key, its future (which keeps it alive),
    and the sub-tasks it holds (`works`, kept by the supervisor's thread to re-send if the lane is lost).
    `sent` and `collector` belong to the client's event loop: how many sub-tasks wait to be collected, and
    the task collecting them (None when nothing is left to collect)."""

    def __init__(self, number: int, future: Future[Any], address: str) -> None:
        self.number, self.future, self.address, self.key = number, future, address, future.key
        self.works: dict[str, Work] = {}
        self.sent = 0
        self.collector: asyncio.Future[None] | None = None
        self.closed = False  # the dispatcher is done with it: stop collecting
        self.silent = False  # a call went unanswered past its limit (reported once)
        self.linger: float | None = None  # a collect's wait for more results after its first (None: adaptive)
        self.round_trip = 0.0  # the last `start` call's time there and back, as the client saw it


async def _call(client: Client, lane: _LaneHandle, function: str, *arguments: Any) -> Any:
    """Call one of the lane's methods directly (client → worker, no scheduler hop)."""
    reply = await client.rpc(lane.address).actor_execute(
        function=function, actor=lane.key, args=list(arguments), kwargs={}
    )
    if reply.get("status") != "OK":
        raise ClusterError(f"the lane on {lane.address} failed: {reply.get('exception')!r}")
    return reply["result"]


async def _patient(call: Any, lane: _LaneHandle, outbox: queue.Queue[Any], limit: float) -> Any:
    """Await a call to a lane; past `limit` seconds report the lane silent (once), and keep waiting: if the
    network heals, the answer still arrives — late, for the dispatcher to ignore."""
    task = asyncio.ensure_future(call)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done and not lane.silent:
        lane.silent = True
        outbox.put((lane.number, None, ClusterError(f"the lane on {lane.address} has not answered for {limit:g} s")))
    return await task


async def _send(
    client: Client, lane: _LaneHandle, batch: list[Work], outbox: queue.Queue[Any], wait: float, silence: float
) -> None:
    """On the client's event loop: start a batch on a lane, then make sure someone collects from it."""
    lane.sent += len(batch)
    sent = asyncio.get_running_loop().time()
    try:
        await _patient(_call(client, lane, "start", pack(batch)), lane, outbox, silence)
        lane.round_trip = asyncio.get_running_loop().time() - sent
    except Exception as exc:  # the lane's worker died, or the call could not be delivered
        outbox.put((lane.number, None, exc))
        return
    if lane.collector is None:
        lane.collector = asyncio.ensure_future(_collect(client, lane, outbox, wait, silence))


async def _collect(client: Client, lane: _LaneHandle, outbox: queue.Queue[Any], wait: float, silence: float) -> None:
    """On the client's event loop: collect a lane's results as they finish (a long poll), until it holds
    nothing more; each reply carries everything finished since the one before. A lane found silent is
    still collected from, so that results it sends after a partition heals arrive (and are ignored)."""
    try:
        while lane.sent > 0 and not lane.closed:
            linger = lane.linger if lane.linger is not None else min(lane.round_trip / 2, 0.02)
            reply = await _patient(_call(client, lane, "collect", wait, linger), lane, outbox, wait + silence)
            results = unpack(reply)
            if results:
                lane.sent -= len(results)
                outbox.put((lane.number, results, None))
    except Exception as exc:
        outbox.put((lane.number, None, exc))
    finally:
        lane.collector = None


class LaneDispatcher:
    """Sub-tasks sent straight to one actor lane per worker, results collected as they finish (see the
    module docstring)."""

    def __init__(
        self,
        client: Client,
        runner: Runner,
        calls_per_lane: int = 1,
        threads: int = THREADS,
        eager: int = 512,
        wait: float = 0.5,
        silence: float = 30.0,
        linger: float | None = 0.0,
    ) -> None:
        """`wait`: the long poll (seconds a collecting call waits for a first result). `silence`: seconds a
        lane may leave a call unanswered beyond that before it counts as lost (`FanOutPolicy.silence`).
        `linger`: how far apart results may come and still share a reply (`Lane.collect`); None: half the
        lane's round trip as last measured, at most 20 ms (meant to save the round trip a burst's stragglers
        wait for across a network; benchmarks/hosts.py measured no clear gain, so it is off by default)."""
        check_runner(runner)
        self.client, self.runner, self.calls_per_lane, self.threads = client, runner, calls_per_lane, threads
        self.eager, self.wait, self.silence, self.linger = eager, wait, silence, linger
        self.late = 0  # results that came from a lane after it was lost: not taken
        self.lost: list[_LaneHandle] = []  # lanes given up on (their late answers are still collected)
        self.cluster_lost: ClusterError | None = None  # raised by the next `completed`, once this batch is settled
        self.lanes: dict[int, _LaneHandle] = {}
        self._next_lane = 0
        self.pending: dict[str, Work] = {}
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.in_flight: dict[str, _LaneHandle] = {}  # flight key → the lane that holds it
        self._open_lanes()

    def _open_lanes(self, attempts: int = 20) -> None:
        """One lane per live worker. After a worker dies the scheduler may still list it for a moment, so
        placement may fall back to another worker, creation is bounded in time, and it is retried."""
        for _ in range(attempts):
            self.client.wait_for_workers(1, timeout=60)
            workers = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
            futures = [
                self.client.submit(
                    Lane, self.runner, self.threads, actor=True, workers=[w], allow_other_workers=True, pure=False
                )
                for w in workers
            ]
            for future in futures:
                try:
                    future.result(timeout=10)
                    address = self.client.who_has([future])[future.key][0]
                    self.lanes[self._next_lane] = _LaneHandle(self._next_lane, future, address)
                    self.lanes[self._next_lane].linger = self.linger
                    self._next_lane += 1
                except Exception:  # that worker died while the lane was being built: use the others
                    future.cancel()
            if self.lanes:
                return
            time.sleep(0.5)
        raise ClusterError("could not place a lane on any worker of the cluster")

    def submit(self, work: Work) -> None:
        self.pending[work.flight] = work
        if len(self.pending) >= max(self.eager, len(self.in_flight)):
            self.flush()  # a wide fan-out starts while the rest is still being prepared

    def flush(self) -> None:
        """Send what is pending: at most `calls_per_lane` calls per lane, spread round-robin.

        A round flushes when it has dispatched what is ready; `submit` also flushes early, once as many
        sub-tasks wait as are already in flight (`eager` at first), so flush sizes grow geometrically: the
        first 512 sub-tasks of a 100,000-wide round start while the rest are prepared, and the round
        takes O(log N) flushes. Results do not wait for their batch: the lane hands back whatever has
        finished each time it is collected."""
        if not self.pending:
            return
        if not self.lanes:
            self._open_lanes()
        work, self.pending = list(self.pending.values()), {}
        lanes = list(self.lanes.values())
        calls = min(len(work), len(lanes) * self.calls_per_lane)
        size = math.ceil(len(work) / calls)
        for i in range(0, len(work), size):
            batch = work[i : i + size]
            lane = lanes[(i // size) % len(lanes)]
            for item in batch:
                lane.works[item.flight] = item
                self.in_flight[item.flight] = lane
            self.client.loop.add_callback(_send, self.client, lane, batch, self.outbox, self.wait, self.silence)  # type: ignore[union-attr]

    def completed(self, timeout: float | None) -> list[tuple[str, SubTaskResult]]:
        """Results that came in (waiting up to `timeout` s for one); with nothing in flight, it only takes in
        what lost lanes still send (counted in `late`)."""
        if self.cluster_lost is not None:
            raise self.cluster_lost
        if not self.in_flight and self.outbox.empty():
            return []
        try:
            outcomes = [self.outbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not self.outbox.empty():
            outcomes.append(self.outbox.get_nowait())
        done: list[tuple[str, SubTaskResult]] = []
        for number, results, error in outcomes:
            if number not in self.lanes:  # lost already: what it sends now is late, and its work was re-sent
                self.late += len(results or ())
                continue
            if error is not None:
                try:
                    self._lane_lost(number, error)
                except ClusterError as exc:  # the results already here are returned first, to be settled
                    self.cluster_lost = exc
                continue
            for key, result in results:
                lane = self.in_flight.pop(key, None)
                if lane is not None:  # else cancelled, or already taken from another copy of the lane's work
                    del lane.works[key]
                    done.append((key, result))
        self.flush()
        return done

    def _lane_lost(self, number: int, error: BaseException) -> None:
        """A lane's worker died or went silent: re-send its unfinished sub-tasks to the other lanes
        (at-least-once) — unless the scheduler is silent too: then this client is cut off from the cluster."""
        lane = self.lanes.pop(number, None)
        if lane is None:
            return  # already known
        if not scheduler_answers(self.client, self.silence):
            self.lanes[number] = lane  # nothing is re-sent: close() lets it go
            raise cluster_lost(self.client, str(error), self.silence)
        self.lost.append(lane)
        for key, work in lane.works.items():
            if self.in_flight.pop(key, None) is not None:
                self.pending[key] = work
        lane.works.clear()

    def cancel(self, key: str) -> None:
        """Stop waiting for a copy: a running sub-task cannot be stopped, and its result will not be read."""
        self.pending.pop(key, None)
        lane = self.in_flight.pop(key, None)
        if lane is not None:
            del lane.works[key]

    def close(self) -> None:
        for lane in [*self.lanes.values(), *self.lost]:
            lane.closed = True
        self.pending.clear()
        self.in_flight.clear()
        self.lanes.clear()  # releasing the lanes' futures lets Dask retire the actors
