"""The code sandbox: model-written Python in a fresh, limited, disposable process (lab 02).

A model that writes code needs somewhere to run it. Each `run_python` call starts a fresh
interpreter (`python -I`, so the virtualenv's numpy and pandas import) that:

- is limited: CPU seconds, address space, file size and process count (rlimits), and a wall clock
  after which the whole process tree is killed with SIGKILL, never waited on;
- starts in an empty scratch directory holding only `main.py` and the caller's files, removed afterwards;
- gets a scrubbed environment: none of the parent's variables (API keys, tokens) are passed on;
- where the kernel allows (`isolation_available()`): has no network; lives in its own pid namespace,
  so nothing it starts outlives it; sees the host's filesystems read-only, with private size-capped
  tmpfs for /tmp, /var/tmp, /dev/shm and /run/lock; and runs as `nobody` (when we are root) or in a
  user namespace of its own, holding no privileges.

Every `SandboxResult` says which of those protections were in force (`isolation`); what this machine
cannot do is warned about once. How each is set up: `_isolation` (host side) and `_sandbox_init` (PID 1
inside the namespaces). `SandboxPool` bounds how many sandboxes run at once; `sandbox_tool` hands one
to a model as the `run_python` tool.

What it does NOT protect against: this is a lab guard-rail, not a security boundary. The code can read
whatever the host lets `nobody` (or you, when not root) read, reach Unix sockets on the filesystem,
use its limits in full, and attack the kernel itself. Without a pid namespace, processes that leave
the process group survive it; run as root without `nobody`, RLIMIT_NPROC does not apply and a fork
bomb is bounded only by the wall clock. For untrusted or multi-tenant code, use a VM or a container
service. Left out: seccomp, cgroups, Landlock, GPUs, and a persistent REPL (each call starts afresh).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agentlab.services import _isolation
from agentlab.tools import Tool, tool

__all__ = [
    "PoolStats",
    "SandboxLimits",
    "SandboxPool",
    "SandboxResult",
    "isolation_available",
    "rlimits",
    "run_python",
    "sandbox_tool",
]

PROGRAM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "AGENTLAB_SANDBOX": "1",
}
"""The program's whole environment (plus HOME, its working directory). Nothing is inherited."""
_ORDER = ("rlimits", "uid", "userns", "netns", "pidns", "mountns")


@dataclass(frozen=True)
class SandboxLimits:
    """How much one sandboxed run may use."""

    wall_seconds: float = 10.0
    """Wall-clock budget; past it the whole process tree is killed and the result says `timed_out`."""
    cpu_seconds: int = 5
    """CPU time per process (RLIMIT_CPU); past it the process gets SIGXCPU."""
    memory_mb: int = 256
    """Address space per process (RLIMIT_AS); past it allocations fail (MemoryError)."""
    file_size_mb: int = 8
    """Largest file the code may write (RLIMIT_FSIZE); writing past it fails (EFBIG)."""
    max_processes: int = 32
    """Processes the sandbox user may have (RLIMIT_NPROC); only enforced when the program is not root."""
    max_output_bytes: int = 65536
    """Bytes kept of stdout and of stderr each; the rest is counted and dropped."""
    scratch_mb: int = 64
    """Size of each private tmpfs: /tmp (holding the working directory), /var/tmp, /dev/shm, /run/lock.
    They live in host memory, outside `memory_mb`."""

    def __post_init__(self) -> None:
        if self.wall_seconds <= 0 or min(self.cpu_seconds, self.memory_mb, self.file_size_mb) <= 0:
            raise ValueError(f"sandbox limits must be positive: {self}")
        if min(self.max_processes, self.max_output_bytes, self.scratch_mb) <= 0:
            raise ValueError(f"sandbox limits must be positive: {self}")


def rlimits(limits: SandboxLimits) -> dict[str, tuple[int, int]]:
    """The resource limits a run applies, as `resource` names -> (soft, hard)."""
    mb = 1024 * 1024
    return {
        "RLIMIT_AS": (limits.memory_mb * mb, limits.memory_mb * mb),
        # One second of grace between the soft limit (SIGXCPU) and the hard one (SIGKILL).
        "RLIMIT_CPU": (limits.cpu_seconds, limits.cpu_seconds + 1),
        "RLIMIT_FSIZE": (limits.file_size_mb * mb, limits.file_size_mb * mb),
        "RLIMIT_NPROC": (limits.max_processes, limits.max_processes),
        "RLIMIT_NOFILE": (256, 256),
        "RLIMIT_CORE": (0, 0),
    }


@dataclass(frozen=True)
class SandboxResult:
    """How one sandboxed run went."""

    ok: bool
    """The program exited with code 0 within its wall-clock budget."""
    exit_code: int | None
    """The program's exit code; -N if signal N killed it; None if it was killed for time."""
    stdout: str
    stderr: str
    timed_out: bool
    duration: float
    """Wall-clock seconds, from start until every process was gone."""
    isolation: tuple[str, ...]
    """Protections in force for this run, e.g. ("rlimits", "uid", "netns", "pidns", "mountns")."""
    wall_seconds: float = 0.0
    """The wall-clock budget the run had (for messages)."""

    def render(self) -> str:
        """The text the model reads: what the program printed, or one clear error line first."""
        if self.timed_out:
            error = f"error: sandbox timed out after {self.wall_seconds:.1f} s; the process tree was killed"
        elif self.exit_code is not None and self.exit_code < 0:
            error = f"error: {_signal_story(-self.exit_code)}"
        elif not self.ok:
            error = f"error: exit code {self.exit_code}: {_tail(self.stderr)}"
        else:
            return self.stdout.rstrip() or "(no output)"
        printed = self.stdout.rstrip()
        return f"{error}\nstdout before the error:\n{printed}" if printed else error

    def _repr_html_(self) -> str:
        colour = "green" if self.ok else "crimson"
        shields = ", ".join(self.isolation) or "none"
        return (
            f"<div><b style='color:{colour}'>{'ok' if self.ok else 'failed'}</b> in {self.duration:.2f} s "
            f"(isolation: {html.escape(shields)})<pre>{html.escape(self.render())}</pre></div>"
        )


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(no error output)"


def _signal_story(number: int) -> str:
    why = {
        signal.SIGXCPU: "the CPU time limit ran out",
        signal.SIGKILL: "the CPU hard limit, or out of memory",
        signal.SIGXFSZ: "the file size limit was exceeded",
        signal.SIGSEGV: "a segmentation fault",
    }
    name = signal.Signals(number)
    return f"killed by {name.name}: {why.get(name, 'a signal')}"


def isolation_available() -> dict[str, bool]:
    """Which protections this machine gives a sandbox (probed once, then cached)."""
    return _isolation.probe().as_dict()


def _write_inputs(directory: str, code: str, files: Mapping[str, str] | None) -> None:
    inputs = {"main.py": code, **(files or {})}
    for name, text in inputs.items():
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ValueError(f"sandbox file names must be relative paths inside the sandbox, got {name!r}")
        target = os.path.join(directory, *path.parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)


def _config(scratch: str, limits: SandboxLimits, shields: _isolation.Isolation, status_fd: int) -> str:
    return json.dumps(
        {
            "inputs": scratch,
            "status_fd": status_fd,
            "wall_seconds": limits.wall_seconds,
            "scratch_mb": limits.scratch_mb,
            "mountns": shields.mountns,
            "host_mount_namespace": _isolation.host_mount_namespace(),
            "drop_uid": shields.uid,
            "userns": shields.userns,
            "runtime": _isolation.runtime_paths(),
            "rlimits": rlimits(limits),
            "python": sys.executable,
            "env": PROGRAM_ENV,
        }
    )


def _run(scratch: str, limits: SandboxLimits) -> SandboxResult:
    """Start the sandbox, collect its output, kill what is left, and read the init's report."""
    shields = _isolation.probe()
    status_read, status_write = os.pipe()
    start = time.monotonic()
    try:
        try:
            config = _config(scratch, limits, shields, status_write)
            proc = _isolation.start(_isolation.command(shields, config), status_write)
        finally:
            os.close(status_write)
        with proc:
            exited = os.pidfd_open(proc.pid)
            try:
                deadline = start + limits.wall_seconds
                stdout, stderr, timed_out = _isolation.collect(proc, exited, deadline, limits.max_output_bytes)
                _isolation.kill_tree(proc, exited, shields.pidns)
            finally:
                os.close(exited)
        report = _isolation.read_report(status_read)
    finally:
        os.close(status_read)
    in_force = set(report.get("isolation", ())) | _started_with(shields, report)
    exit_code = None if timed_out else report.get("exit_code", proc.returncode)
    return SandboxResult(
        ok=exit_code == 0,
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        duration=time.monotonic() - start,
        isolation=tuple(name for name in _ORDER if name in in_force),
        wall_seconds=limits.wall_seconds,
    )


def _started_with(shields: _isolation.Isolation, report: dict[str, Any]) -> set[str]:
    """The namespaces `unshare` made, if it started the init at all (the init reported in)."""
    if "isolation" not in report or shields.unshare is None:
        return set()
    return {name for name in ("netns", "pidns") if getattr(shields, name)}


def run_python(
    code: str, limits: SandboxLimits = SandboxLimits(), files: Mapping[str, str] | None = None
) -> SandboxResult:
    """Run `code` as main.py in a fresh sandbox, next to `files` (name -> text), and report how it went."""
    scratch = tempfile.mkdtemp(prefix="agentlab-sbx-")
    try:
        _write_inputs(scratch, code, files)
        return _run(scratch, limits)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters."""

    size: int
    running: int
    peak: int
    """The most sandboxes that ever ran at once (never more than `size`)."""
    runs: int
    timed_out: int
    failed: int


class SandboxPool:
    """Runs sandboxes for many callers, at most `size` at once; the others wait for a free slot."""

    def __init__(self, size: int = 2) -> None:
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._counts = {"running": 0, "peak": 0, "runs": 0, "timed_out": 0, "failed": 0}

    def run(
        self, code: str, limits: SandboxLimits = SandboxLimits(), files: Mapping[str, str] | None = None
    ) -> SandboxResult:
        """`run_python` in one of the pool's slots, waiting for a free one first."""
        with self._slots:
            self._count(running=1)
            try:
                result = run_python(code, limits, files)
            except BaseException:
                self._count(running=-1, runs=1, failed=1)
                raise
            self._count(running=-1, runs=1, timed_out=int(result.timed_out), failed=int(not result.ok))
        return result

    def _count(self, **changes: int) -> None:
        with self._lock:
            for name, change in changes.items():
                self._counts[name] += change
            self._counts["peak"] = max(self._counts["peak"], self._counts["running"])

    @property
    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(size=self.size, **self._counts)


def sandbox_tool(limits: SandboxLimits = SandboxLimits(), pool: SandboxPool | None = None) -> Tool:
    """The `run_python` tool a model calls; it runs in `pool` when given, else in its own sandbox."""

    def run(code: str) -> str:
        """Run Python code in an isolated sandbox and return what it prints.

        Args:
            code: a complete Python program; print() whatever you want to see.
        """
        result = pool.run(code, limits) if pool is not None else run_python(code, limits)
        return result.render()

    built: Tool = tool(run, name="run_python")
    return built
