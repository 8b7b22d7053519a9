"""One submission's answers, alive in a sandbox, asked questions over a socket (the checker's side).

    with Session(covers) as answers:                     # a fresh sandbox (agentlab.services.sandbox)
        answers.request({"op": "run", "source": ...})     # run a cell there
        answers.request({"op": "call", "name": "fitted_p", "args": ..., "kwargs": ...})

The learner's code runs in `agentlab.services.sandbox.run_python` (own pid, mount and network
namespaces, host files read-only, `nobody`), with `_learner.py` as its program; the sandbox covers the
grader's files (`covers`: sources, labs, checkout, submissions) as it covers the user's data. It shares no process,
directory or writable file with the checker: the learner's side listens on a Unix socket in its own
private /tmp, which the checker reaches through /proc/PID/cwd (so no path of the checker's is ever
visible to the learner); one JSON line per request and reply, values as data. The checker decides
every outcome.

Time: each request has the checker's limit; a reply that does not come within it (a loop in C code,
a trapped alarm) ends the session. Ending a session closes the lifeline, so the learner's side kills
itself; whatever still runs after a moment is killed from here, with every process the session
started (the checker makes itself a subreaper, so orphans come back to it).

What this does NOT protect against: the sandbox's own limits (see its docstring). Without mount
namespaces (`isolation_available()`), the grader's files cannot be hidden; every result says so.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from agentlab.grading._learner import MAX_LINE, SOCKET_NAME
from agentlab.services.sandbox import SandboxLimits, SandboxResult, isolation_available, run_python

__all__ = ["SANDBOX_LIMITS", "Session", "SessionLost", "become_subreaper", "kill_tree"]

STARTUP_S = 60.0
"""How long a sandbox may take to start and connect."""
SANDBOX_LIMITS = SandboxLimits(wall_seconds=900.0, cpu_seconds=600, memory_mb=2048, max_processes=64)
"""One session's sandbox: a backstop only; the checker ends a session long before (per-request limits)."""
_LEARNER = Path(__file__).with_name("_learner.py")
PR_SET_CHILD_SUBREAPER = 36
_NOT_HIDDEN = "the sandbox has no mount namespace on this machine: the grader's files are not hidden from the answers"


class SessionLost(BaseException):
    """The learner's side stopped answering (hung, died, or sent something unreadable): the session is over.

    A BaseException, so that hypothesis and an `except Exception` in a check let it through at once.
    """


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as listing:
                for child in map(int, listing.read().split()):
                    found += [child, *_descendants(child)]
    return found


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as listing:
                found |= set(map(int, listing.read().split()))
    return found


def _tree(roots: set[int]) -> list[int]:
    """`roots` and every process below them."""
    found = []
    for pid in sorted(roots):
        found += [pid, *_tree(_children(pid))]
    return found


def kill_tree(roots: set[int]) -> None:
    """SIGKILL `roots` and every process below them, until none is left (a fork may race the kill)."""
    for _ in range(20):
        found = [pid for pid in _tree(roots) if pid != os.getpid()]
        if not found:
            return
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def become_subreaper() -> None:
    """Orphans of the sandbox (a double fork, without a pid namespace) become our children, so we can kill them."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class Session:
    """A sandbox running `_learner.py` for one submission, and the socket to ask it things."""

    def __init__(self, covers: list[str]) -> None:
        self._before = _children(os.getpid())
        self._result: SandboxResult | None = None
        self._failure = ""
        self._thread = threading.Thread(target=self._sandbox, args=(covers,), daemon=True)
        self._thread.start()
        self.alive = False
        self.hidden = "" if isolation_available()["hidden"] else _NOT_HIDDEN
        """Why the grader's files could not be hidden ('' when they were)."""
        self._calls: socket.socket | None = None
        self._lifeline: socket.socket | None = None
        self._buffer = b""
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _sandbox(self, covers: list[str]) -> None:
        try:
            self._result = run_python(_LEARNER.read_text(encoding="utf-8"), SANDBOX_LIMITS, hide=covers)
        except BaseException as exc:  # reported by the next request, as a lost session
            self._failure = f"the sandbox could not start: {type(exc).__name__}: {exc}"

    def _mine(self) -> set[int]:
        """This session's processes: children that were not there before it (and what runs below them)."""
        return _children(os.getpid()) - self._before

    def _connect(self) -> None:
        """Reach the learner's socket through /proc/PID/cwd (no path of ours is ever visible to it)."""
        deadline = time.monotonic() + STARTUP_S
        while self._calls is None:
            for pid in _tree(self._mine()):
                path = f"/proc/{pid}/cwd/{SOCKET_NAME}"
                with contextlib.suppress(OSError):
                    calls = self._open(path)
                    try:
                        self._lifeline = self._open(path)
                    except OSError:
                        calls.close()
                        raise
                    self._calls = calls
                    break
            if self._calls is None:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise SessionLost(self._why_not_started())
                time.sleep(0.02)
        self._reply(deadline)  # {"ready": true}
        self.alive = True

    @staticmethod
    def _open(path: str) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock

    def _why_not_started(self) -> str:
        if self._failure:
            return self._failure
        result = self._result
        tail = result.render().splitlines()[-1:] if result is not None else []
        return f"the answers' sandbox did not start ({' '.join(tail) or 'it took too long'})"

    def _reply(self, deadline: float) -> dict[str, Any]:
        """One reply line, read within `deadline`; a silent, dead or garbled learner ends the session."""
        assert self._calls is not None
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionLost("it did not answer in time")
            self._calls.settimeout(left)
            try:
                chunk = self._calls.recv(65536)
            except TimeoutError:
                raise SessionLost("it did not answer in time") from None
            except OSError as exc:
                raise SessionLost(f"its connection broke ({exc.strerror})") from None
            if not chunk:
                raise SessionLost("its process exited")
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE:
                raise SessionLost(f"it sent a reply over {MAX_LINE} bytes")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            raise SessionLost("it sent a reply that is not JSON") from None
        if not isinstance(reply, dict):
            raise SessionLost("it sent a reply that is not a JSON object")
        return reply

    def request(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        """Send one request and wait at most `seconds` for its reply; `SessionLost` ends the session."""
        if not self.alive or self._calls is None:
            raise SessionLost("the answers' process has already stopped")
        ticket = secrets.token_hex(8)  # unguessable: a reply written ahead by learner code cannot match it
        try:
            self._calls.sendall(json.dumps({**message, "id": ticket}, allow_nan=True).encode() + b"\n")
            reply = self._reply(time.monotonic() + seconds)
            if reply.get("id") != ticket:
                raise SessionLost("it sent a reply that answers no request (forged?)")
            return reply
        except OSError as exc:
            self.close()
            raise SessionLost(f"its connection broke ({exc.strerror})") from None
        except BaseException:  # lost, or the check's own alarm went off mid-request: the state is unknown
            self.close()
            raise

    def close(self) -> None:
        """End the session: hang up (the learner's side kills itself), then kill whatever is left."""
        self.alive = False
        for sock in (self._calls, self._lifeline):
            if sock is not None:
                sock.close()
        self._thread.join(2.0)
        if self._thread.is_alive():
            kill_tree(self._mine())
            self._thread.join()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
