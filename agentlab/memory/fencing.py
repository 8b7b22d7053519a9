"""Leases need fencing: a Dask `Lock` held twice after a pause, and the token that refuses the stale holder (lab 05).

A Dask `Lock` is a lease: its holder's process refreshes it every lease-timeout/5 seconds, and the
scheduler frees a lease nobody refreshed for lease-timeout seconds, so a dead holder cannot block
everyone forever. The price: a holder that is only *paused* — a long GC pause, a swapped-out process,
SIGSTOP, a network partition — loses the lock without knowing. When it wakes up its `Lock` still says
`locked()`, another holder has taken the lease meanwhile, and both write.

The cure is at the store, not the lock (Kleppmann, "How to do distributed locking", 2016): whoever takes
the lease also takes a *fencing token* from the store (`Blackboard.issue_token`), one higher than any
before, and sends it with every write. The store remembers the newest token per resource and refuses
a write that carries an older one. The woken holder's write is refused as "fenced".

`two_holders` runs the whole story for real: holder A is a separate process (its own Dask client) that
takes the lock and a token; we SIGSTOP it for longer than its lease; holder B takes the lock and a
newer token and writes; we SIGCONT A, which still believes it holds the lock and writes twice — once
without its token (accepted: the naive way, B's value is overwritten) and once with it (refused).
When the scheduler runs in this process (a local cluster), it notices A's refresh of a lease it had
already expired and given to B, and logs it as CRITICAL ("Refreshing an unknown lease ID ... may cause
overbooking of the semaphore"): that log line *is* the double holding. `two_holders` collects what the
scheduler's lock module logs while the story runs and returns it in `scheduler_said`, rather than letting
it print as an unexplained red line.

POSIX only (SIGSTOP). The scheduler checks leases every `lease-validation-interval` (10 s by default),
so A's lease ends that much after its timeout at most; lab 05 starts its cluster with a shorter one.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from distributed import Client, Lock

from agentlab.errors import ClusterError
from agentlab.memory.board import Blackboard
from agentlab.memory.values import WriteResult

__all__ = ["TwoHolders", "two_holders"]


@dataclass(frozen=True)
class TwoHolders:
    """What happened when holder A was paused past its lease and holder B took the lock."""

    a_token: int
    b_token: int
    a_still_thinks_it_holds: bool
    """After waking, A's `Lock` still holds its lease as far as A can tell (nothing told it otherwise)."""
    b_holds: bool
    leases_counted: int
    """Leases the scheduler counted on the lock once A woke (A's refresh re-adds its lease: often 2)."""
    paused_s: float
    a_naive_write: WriteResult
    """A's write without its token: accepted, overwriting B's value."""
    a_fenced_write: WriteResult
    """A's write with its (older) token: refused as "fenced"."""
    b_write: WriteResult
    scheduler_said: tuple[str, ...] = field(default=())
    """What the scheduler's lock module logged during the story (empty when the scheduler runs elsewhere)."""


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.levelname}: {record.getMessage()}")


@contextlib.contextmanager
def _scheduler_log(into: list[str]) -> Iterator[None]:
    """Collect the warnings this process's scheduler logs about locks and semaphores into `into`, instead of
    printing them (they are returned, and shown, as part of the story)."""
    logger = logging.getLogger("distributed.semaphore")
    handler, propagated = _Collect(into), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagated


def _line(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdout is not None
    text = proc.stdout.readline()
    if not text:
        raise ClusterError(f"holder A exited early: {proc.stderr.read() if proc.stderr else ''}")
    answer: dict[str, object] = json.loads(text)
    return answer


def two_holders(
    client: Client, board: Blackboard, *, lease_timeout: float = 1.0, resource: str = "report"
) -> TwoHolders:
    """Run the paused-holder story on `client`'s cluster, writing `resource` on `board` (see the module)."""
    lock_name = f"{resource}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__LOCKS__LEASE_TIMEOUT=f"{lease_timeout}s")
    packed = base64.b64encode(pickle.dumps(board)).decode()
    address = str(client.scheduler_info()["address"])
    args = [sys.executable, "-m", "agentlab.memory.fencing", address, lock_name, resource, packed]
    said: list[str] = []
    with (
        _scheduler_log(said),
        subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as a,
    ):
        try:
            a_token = int(_line(a)["token"])  # type: ignore[call-overload]
            paused = time.monotonic()
            os.kill(a.pid, signal.SIGSTOP)  # A stops dead: no lease refresh, no writes
            lock = Lock(lock_name)
            b_holds = lock.acquire(timeout=lease_timeout + 60)  # waits until the scheduler frees A's lease
            b_token = board.issue_token(resource)
            b_write = board.as_writer("B").write(resource, "B's report", fence=b_token)
            board.as_writer("B").write(f"{resource}/unfenced", "B's report")
            os.kill(a.pid, signal.SIGCONT)  # A wakes up, believing it still holds the lock
            paused_s = time.monotonic() - paused
            assert a.stdin is not None
            a.stdin.write("go\n")
            a.stdin.flush()
            woke = _line(a)
            lock.release()
        finally:
            if a.poll() is None:
                os.kill(a.pid, signal.SIGCONT)
                a.kill()
    return TwoHolders(
        a_token,
        b_token.token,
        bool(woke["locked"]),
        b_holds,
        int(woke["counted"]),  # type: ignore[call-overload]
        paused_s,
        pickle.loads(base64.b64decode(str(woke["naive"]))),
        pickle.loads(base64.b64decode(str(woke["fenced"]))),
        b_write,
        tuple(said),
    )


def _holder_a(address: str, lock_name: str, resource: str, packed: str) -> None:
    """Holder A, in its own process: take the lock and a token, wait for "go", then write twice."""
    with Client(address):
        board: Blackboard = pickle.loads(base64.b64decode(packed)).as_writer("A")
        lock = Lock(lock_name)
        lock.acquire()
        token = board.issue_token(resource)
        print(json.dumps({"token": token.token}), flush=True)
        sys.stdin.readline()  # we are paused (SIGSTOP) around here
        locked = bool(lock._leases)  # the lease ids A's Lock holds: its own belief, never corrected
        counted = lock.get_value()
        naive = board.write(f"{resource}/unfenced", "A's stale report")
        fenced = board.write(resource, "A's stale report", fence=token)
        packed_results = {
            k: base64.b64encode(pickle.dumps(v)).decode() for k, v in (("naive", naive), ("fenced", fenced))
        }
        print(json.dumps({"locked": locked, "counted": counted, **packed_results}), flush=True)


if __name__ == "__main__":
    _holder_a(*sys.argv[1:5])
