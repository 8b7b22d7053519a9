"""The code sandbox: model-written Python in a fresh, limited, disposable process (lab 02).

A model that writes code needs somewhere to run it. Each `run_python` call starts a fresh
interpreter (`python -I`, so the virtualenv's numpy and pandas import) in an empty scratch directory
holding only `main.py` and the caller's files, removed afterwards, with a scrubbed environment
(none of the parent's variables: no API keys or tokens), and kills it at a wall clock.

What protects what, and when (each run's `SandboxResult.isolation` names what was in force; what this
machine cannot do is warned about once, and `isolation_available()` tells in advance):

- always: **rlimits** (CPU, memory, file size per process) and **nonewprivs** (setuid binaries such
  as `passwd` or `su` cannot give root back);
- as root: **uid**, a uid of its own per run (root's files out of reach; RLIMIT_NPROC not shared
  with other runs); not root: **userns**, a user namespace holding no privilege over its walls;
- root, or not root where user namespaces are allowed: **netns** (no network, not even loopback),
  **pidns** (nothing outlives the run or sees the host's processes), **ipcns** (no host SysV shared
  memory, nothing left behind, no data passed between runs), **mountns** + **nosuid** (nothing
  written outside the scratch dir; setuid bits ignored on every mount), and **hidden**: homes
  (~/.ssh), /run (the user's sockets in /run/user), logs, mail, /var/lib and, when not root, every
  directory the caller owns near the top of the tree (and what `run_python(hide=...)` names) are covered
  by empty tmpfs, with only the runtime's own directories (and agentlab's package and datasets) bound
  back, never their siblings;
- **keyring**: a fresh session keyring, so the caller's keys (`keyctl @s`) are out of reach;
- as root with a writable cgroup v2 root (or cgroup v1 memory/pids/cpu): **cgroup-memory**,
  **cgroup-pids**, **cgroup-cpu**, a budget for the whole run: memory (memfd, SysV and tmpfs pages
  included), processes, CPU cores.

Degraded modes: without a pid namespace (a container without CAP_SYS_ADMIN), processes the program
leaves behind are killed by killing every process of the run's uid and the run's cgroup afterwards;
every run has a fresh scratch directory and (as root) a uid no running sandbox holds. Without
cgroups, `memory_mb` and `cpu_seconds` hold per process only and `max_processes` per uid.

What it does NOT protect against: this is a lab guard-rail, not a security boundary. The code can
read whatever the host lets an unprivileged user read outside the hidden places (/etc, /usr, the
project's files if world-readable), use its limits in full, and attack the kernel itself (no
seccomp). Without a mount namespace it sees the host's filesystems as its uid may; without a user or
pid namespace as a non-root caller, it runs as you. For untrusted or multi-tenant code, use a VM or
a container service. Left out: seccomp, Landlock, GPUs, and a persistent REPL (each call starts afresh).

How each is set up: `_isolation` (host side), `_per_run` (uid and cgroup) and `_sandbox_init` (PID 1
inside the namespaces). `SandboxPool` bounds how many sandboxes run at once; `sandbox_tool` hands one
to a model as the `run_python` tool, whose description tells the model what holds on this machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agentlab.agent.tools import Tool, tool
from agentlab.errors import ConfigError, ToolFailed, UsageError
from agentlab.services import _isolation, _per_run
from agentlab.services._isolation import PROTECTIONS

__all__ = [
    "PROTECTIONS",
    "PoolStats",
    "SandboxLimits",
    "SandboxPool",
    "SandboxResult",
    "describe",
    "escape_controls",
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
}
"""The program's whole environment (plus HOME, its working directory, and AGENTLAB_SANDBOX: the pid of the
process that started the sandbox, so whose sandbox a process is can be told). Nothing is inherited."""
_ORDER = tuple(_isolation.Isolation(None, False, False, False, False, False, False).as_dict())


@dataclass(frozen=True)
class SandboxLimits:
    """How much one sandboxed run may use."""

    wall_seconds: float = 10.0
    """Wall-clock budget; past it the whole process tree is killed and the result says `timed_out`."""
    cpu_seconds: int = 5
    """CPU time per process (RLIMIT_CPU); past it the process gets SIGXCPU."""
    memory_mb: int = 256
    """Memory for the whole run (cgroup memory.max: all processes, memfd, SysV and tmpfs pages; past it
    the kernel kills the largest process), and address space per process (RLIMIT_AS; past it
    allocations fail with MemoryError). Without cgroups, only the per-process limit holds."""
    file_size_mb: int = 8
    """Largest file the code may write (RLIMIT_FSIZE); writing past it fails (EFBIG)."""
    max_processes: int = 32
    """Processes the run may have: cgroup pids.max for the run, and RLIMIT_NPROC for the run's own uid."""
    cpus: float = 1.0
    """CPU cores the whole run may keep busy at once (cgroup cpu.max); without cgroups, not enforced."""
    max_output_bytes: int = 65536
    """Bytes kept of stdout and of stderr each; the rest is counted and dropped."""
    scratch_mb: int = 64
    """Size of each private tmpfs: /tmp (holding the working directory), /var/tmp, /dev/shm, /run/lock.
    They live in host memory, outside `memory_mb`."""

    def __post_init__(self) -> None:
        if self.wall_seconds <= 0 or min(self.cpu_seconds, self.memory_mb, self.file_size_mb) <= 0:
            raise ConfigError(f"sandbox limits must be positive: {self}")
        if min(self.max_processes, self.max_output_bytes, self.scratch_mb, self.cpus) <= 0:
            raise ConfigError(f"sandbox limits must be positive: {self}")


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
        """The text the model reads: what the program printed, or one clear error line first.
        Control characters (terminal escapes, bidi overrides) are shown escaped, never passed on."""
        if self.timed_out:
            error = f"error: sandbox timed out after {self.wall_seconds:.1f} s; the process tree was killed"
        elif self.exit_code is not None and self.exit_code < 0:
            error = f"error: {_signal_story(-self.exit_code)}"
        elif not self.ok:
            error = f"error: exit code {self.exit_code}: {_tail(escape_controls(self.stderr))}"
        else:
            return escape_controls(self.stdout.rstrip()) or "(no output)"
        printed = escape_controls(self.stdout.rstrip())
        return f"{error}\nstdout before the error:\n{printed}" if printed else error

    def _repr_html_(self) -> str:
        colour = "green" if self.ok else "crimson"
        shields = ", ".join(self.isolation) or "none"
        return (
            f"<div><b style='color:{colour}'>{'ok' if self.ok else 'failed'}</b> in {self.duration:.2f} s "
            f"(isolation: {html.escape(shields)})<pre>{html.escape(self.render())}</pre></div>"
        )


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """`text` with every control character but newline and tab written as an escape (ESC -> \\x1b)."""
    return _CONTROLS.sub(_escaped, text.replace("\r\n", "\n"))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
            raise UsageError(f"sandbox file names must be relative paths inside the sandbox, got {name!r}")
        target = os.path.join(directory, *path.parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Any string is accepted: a lone surrogate becomes the escape \\udXXX that Python reads back.
        with open(target, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)


@dataclass(frozen=True)
class _PerRun:
    """What one run holds for its length: a uid of its own (as root) and its cgroup, if any."""

    uid: int | None
    cgroup: _per_run.RunCgroup | None


@contextlib.contextmanager
def _per_run_budget(shields: _isolation.Isolation, limits: SandboxLimits) -> Iterator[_PerRun]:
    """Lease a uid and make the run's cgroup; afterwards kill all that is left of both, and free them."""
    lease = _per_run.UidLease() if shields.uid else None
    cgroup = None
    try:
        if lease is not None and not shields.pidns:
            _per_run.sweep(lease.uid)  # a run of this uid that died with its host may have left processes
        if shields.cgroup:
            budget = _per_run.Budget(limits.memory_mb * 2**20, limits.max_processes, limits.cpus)
            # Should the cgroup fail now (the probe said it would not), the run goes on without one and
            # its `isolation` says so.
            with contextlib.suppress(OSError):
                cgroup = _per_run.RunCgroup(budget)
        yield _PerRun(None if lease is None else lease.uid, cgroup)
    finally:
        if cgroup is not None:
            cgroup.kill()
            cgroup.remove()
        if lease is not None:
            if not shields.pidns:
                _per_run.sweep(lease.uid)
            lease.release()


def _config(
    scratch: str,
    limits: SandboxLimits,
    shields: _isolation.Isolation,
    status_fd: int,
    run: _PerRun,
    hide: Sequence[str] = (),
) -> str:
    return json.dumps(
        {
            "inputs": scratch,
            "status_fd": status_fd,
            "wall_seconds": limits.wall_seconds,
            "scratch_mb": limits.scratch_mb,
            "mountns": shields.mountns,
            "host_mount_namespace": _isolation.host_mount_namespace(),
            "drop_uid": run.uid,
            "userns": shields.userns,
            "runtime": _isolation.shared_paths() if shields.mountns else _isolation.runtime_paths(),
            "hide": [*_isolation.hidden_paths(), *hide] if shields.mountns else [],
            "cgroups": [] if run.cgroup is None else run.cgroup.procs_files(),
            "rlimits": rlimits(limits),
            "python": sys.executable,
            "env": {**PROGRAM_ENV, "AGENTLAB_SANDBOX": str(os.getpid())},
        }
    )


def _run(scratch: str, limits: SandboxLimits, hide: Sequence[str]) -> SandboxResult:
    """Start the sandbox, collect its output, kill what is left (whatever happens), read the init's report."""
    shields = _isolation.probe()
    with _per_run_budget(shields, limits) as run:
        status_read, status_write = os.pipe()
        start = time.monotonic()
        try:
            try:
                config = _config(scratch, limits, shields, status_write, run, hide)
                proc = _isolation.start(_isolation.command(shields, config), status_write)
            finally:
                os.close(status_write)
            with proc:
                exited = os.pidfd_open(proc.pid)
                try:
                    deadline = start + limits.wall_seconds
                    stdout, stderr, timed_out = _isolation.collect(proc, exited, deadline, limits.max_output_bytes)
                finally:  # an interrupted caller (KeyboardInterrupt) must not leave the sandbox running
                    _isolation.kill_tree(proc, exited, shields.pidns)
                    os.close(exited)
            report = _isolation.read_report(status_read)
        finally:
            os.close(status_read)
        in_force = set(report.get("isolation", ())) | _started_with(shields, report)
        if "cgroup" in in_force and run.cgroup is not None:
            in_force |= set(run.cgroup.limits)
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
    return {name for name in ("netns", "pidns", "ipcns") if getattr(shields, name)}


def run_python(
    code: str,
    limits: SandboxLimits = SandboxLimits(),
    files: Mapping[str, str] | None = None,
    *,
    hide: Sequence[str] = (),
) -> SandboxResult:
    """Run `code` as main.py in a fresh sandbox, next to `files` (name -> text), and report how it went.

    `hide` names more directories to cover like the user's data (the grader's sources, say); as those are,
    only where the sandbox has a mount namespace (`isolation_available()["hidden"]`).
    """
    scratch = tempfile.mkdtemp(prefix=f"agentlab-sbx-{os.getpid()}-")  # whose it is: a leak names its process
    try:
        _write_inputs(scratch, code, files)
        return _run(scratch, limits, [os.path.abspath(path) for path in hide])
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
            raise ConfigError(f"pool size must be at least 1, got {size}")
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


def sandbox_tool(
    limits: SandboxLimits = SandboxLimits(), pool: SandboxPool | None = None, *, failures_raise: bool = False
) -> Tool:
    """The `run_python` tool a model calls; it runs in `pool` when given, else in its own sandbox.

    A program that fails comes back as its rendered output (the model reads the traceback), or with
    `failures_raise` as a `ToolFailed` carrying that output (an MCP server reports it as `isError`)."""

    def run(code: str) -> str:
        """Run Python code in a fresh sandbox and return what it prints.

        Args:
            code: a complete Python program; print() whatever you want to see.
        """
        result = pool.run(code, limits) if pool is not None else run_python(code, limits)
        if failures_raise and not result.ok:
            raise ToolFailed(result.render())
        return result.render()

    built: Tool = tool(run, name="run_python")
    return dataclasses.replace(built, description=describe(limits))


def describe(limits: SandboxLimits = SandboxLimits()) -> str:
    """What the model is told about the sandbox: what holds on this machine, and what does not."""
    shields = {name for name, ok in isolation_available().items() if ok}
    said = [
        "Run Python code in a fresh sandbox and return what it prints; nothing is kept between calls.",
        f"Limits: {limits.wall_seconds:g} s wall clock, {limits.cpu_seconds} s CPU per process,",
        f"{limits.memory_mb} MB memory {'for the whole run' if 'cgroup-memory' in shields else 'per process'}.",
        "No network." if "netns" in shields else "The network is NOT blocked.",
        "Only the working directory and /tmp are writable; home directories are hidden."
        if {"mountns", "hidden"} <= shields
        else "It can read and write what its user can on this machine.",
        "Not a security boundary: it can read world-readable system files and attack the kernel.",
    ]
    return " ".join(said)
