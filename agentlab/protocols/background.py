"""Servers in the background: an MCP or A2A server as a real subprocess on loopback (lab 06, tests).

    with Background(["agentlab", "a2a", "serve", "--port", str(port)], ready=f"{url}/.well-known/agent-card.json"):
        ...                                   # the server answers here; it is stopped on exit

The process gets its own session (so stopping it stops its children too) and its output goes to a log
file that `logs()` reads back when something goes wrong. Waiting for it is bounded: `ready` is polled
until it answers, the process exits, or `startup_timeout` passes — never a sleep-and-hope.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx2

from agentlab.errors import ServiceError

__all__ = ["Background", "agentlab_command", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agentlab_command(*args: str) -> list[str]:
    """`agentlab ARGS...` run with this interpreter (works without the console script on PATH)."""
    return [sys.executable, "-m", "agentlab", *args]


class Background:
    """A server subprocess that is ready when `ready` (a URL) answers any HTTP status."""

    def __init__(self, argv: Sequence[str], ready: str, startup_timeout: float = 60.0) -> None:
        self.argv, self.ready, self.startup_timeout = list(argv), ready, startup_timeout
        self._log = Path(tempfile.mkstemp(prefix="agentlab-server-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Background:
        with self._log.open("wb") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                httpx2.get(self.ready, timeout=2.0)
                return self
            except httpx2.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServiceError(f"{' '.join(self.argv)} did not start serving {self.ready}:\n{self.logs()}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else -1

    def logs(self) -> str:
        return self._log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Background:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        self._log.unlink(missing_ok=True)
