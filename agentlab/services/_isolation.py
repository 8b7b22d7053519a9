"""The host side of a sandbox: probe what the kernel allows, start, watch, and tear down (lab 02).

The sandbox (`agentlab.services.sandbox`) asks the kernel for as much isolation as it will give,
using util-linux `unshare` and the standard library only:

- **netns**: a fresh network namespace whose only interface is a loopback that is down;
- **pidns**: a fresh pid namespace; its PID 1 is our init (`_sandbox_init`), and when PID 1 dies the
  kernel kills everything else inside, including processes that left the group with `setsid()`;
- **mountns**: a private mount namespace: host mounts read-only and nosuid, private tmpfs for /tmp
  and friends, and the places that hold the user's data (`hidden_paths`) covered by empty tmpfs;
- **ipcns**: a fresh IPC namespace: no host SysV segments, semaphores or message queues, and its
  own vanish with it;
- **uid**: when we are root, the program runs as an unprivileged uid of its own
  (`_per_run.UidLease`), so RLIMIT_NPROC counts only this run and root-owned files are out of reach;
- **userns**: otherwise, the program runs in a user namespace of its own: it keeps our file access
  (minus what `hidden_paths` covers) but holds no privileges, so it cannot undo what is around it;
- **keyring** (a fresh session keyring) and **cgroup** budgets (`_per_run.RunCgroup`), where the
  kernel lets us have them.

Each is probed once by really trying it (`probe`); what is missing is warned about once and left
out, and every result says which protections were in force. Not root? The namespaces then need a
user namespace (`unshare --user --map-root-user`), which some distributions forbid (Ubuntu 24.04's
AppArmor setting `kernel.apparmor_restrict_unprivileged_userns`): the probe finds that too.

Then one run: `start` the command line `command` builds, `collect` its output until it exits or
its deadline passes (watching a pidfd, so a straggler holding the pipes cannot stall us), and
`kill_tree` whatever is left, returning only when all of it is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentlab.services import _per_run, _sandbox_init

__all__ = [
    "INIT",
    "Isolation",
    "collect",
    "command",
    "hidden_paths",
    "host_mount_namespace",
    "kill_tree",
    "probe",
    "read_report",
    "runtime_paths",
    "shared_paths",
    "start",
    "wait_exit",
]

INIT = str(Path(_sandbox_init.__file__).resolve())
DRAIN_SECONDS = 0.5
"""After the sandbox exits, how long stragglers that still hold its output pipes may keep them."""
HIDDEN = (
    *("/home", "/root", "/run", "/mnt", "/media", "/srv"),
    *("/var/log", "/var/mail", "/var/spool", "/var/lib", "/var/cache"),
)
"""Covered by an empty tmpfs in every sandbox with a mount namespace (the runtime's own paths bound back)."""
_NOT_SCANNED = ("/proc", "/sys", "/dev", "/tmp")
HOST_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
"""The only environment `unshare` and the init see; the program gets `sandbox.PROGRAM_ENV` instead."""


@dataclass(frozen=True)
class Isolation:
    """The protections this machine supports, found by `probe()`."""

    unshare: str | None
    """Path of util-linux `unshare`, or None if it is missing."""
    rootless: bool
    """We are not root, so namespaces need a user namespace first (`--user --map-root-user`)."""
    netns: bool
    pidns: bool
    mountns: bool
    uid: bool
    """The program can run as `nobody`: we are root and it can reach the Python runtime."""
    userns: bool
    """Failing `uid`, the program gets a user namespace of its own, so it holds no privileges."""
    ipcns: bool = False
    keyring: bool = False
    """The keyctl syscall works here, so the init can give the program a fresh session keyring."""
    cgroup: tuple[str, ...] = ()
    """The cgroup controllers each run gets a budget in: some of memory, pids, cpu."""

    def as_dict(self) -> dict[str, bool]:
        """Protection name -> in force for every run, in the order results report them."""
        shields = ("uid", "userns", "netns", "pidns", "mountns", "ipcns")
        found = {"rlimits": True} | {name: bool(getattr(self, name)) for name in shields}
        found |= {"nosuid": self.mountns, "hidden": self.mountns, "nonewprivs": True, "keyring": self.keyring}
        return found | {f"cgroup-{name}": name in self.cgroup for name in ("memory", "pids", "cpu")}


def hidden_paths() -> list[str]:
    """Where the user's data lives: `HIDDEN`, our home and runtime dir, and, when we are not root,
    every directory we own within two levels of / (and the working directory, if ours)."""
    found = {*HIDDEN, os.path.expanduser("~"), os.environ.get("XDG_RUNTIME_DIR", "/run/user")}
    uid = os.geteuid()
    if uid != 0:
        with contextlib.suppress(OSError):
            if os.stat(os.getcwd()).st_uid == uid:
                found.add(os.getcwd())
        for top in _subdirectories("/"):
            if top not in _NOT_SCANNED:
                found |= {path for path in [top, *_subdirectories(top)] if _owned_by(path, uid)}
    return sorted(path for path in found if path.startswith("/") and path != "/")


def _subdirectories(directory: str) -> list[str]:
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        return [entry.path for entry in entries if entry.is_dir(follow_symlinks=False)]
    return []


def _owned_by(path: str, uid: int) -> bool:
    try:
        return os.lstat(path).st_uid == uid
    except OSError:
        return False


def runtime_paths() -> list[str]:
    """What `nobody` must be able to reach to run this interpreter with its packages."""
    paths = {sys.executable, os.path.realpath(sys.executable), sys.prefix, sys.base_prefix}
    paths |= {sys.exec_prefix, sys.base_exec_prefix}
    paths |= {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return sorted(path for path in paths if path and os.path.exists(path))


def shared_paths() -> list[str]:
    """What a sandbox with a mount namespace binds back under the tmpfs covers: the runtime, plus
    agentlab's own package and datasets directories (an editable install keeps them in the project
    checkout, which lab code run in the sandbox, such as the grader's, imports), never the checkout."""
    package = Path(__file__).resolve().parents[1]
    ours = [str(package), str(package.parent / "datasets")]
    return sorted({*runtime_paths(), *(path for path in ours if os.path.isdir(path))})


def _works(cmd: list[str]) -> bool:
    try:
        done = subprocess.run(cmd, env=HOST_ENV, capture_output=True, timeout=10, check=False, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def host_mount_namespace() -> str:
    """Our mount namespace's identity; the init refuses to change mounts if it is still in it."""
    return os.readlink("/proc/self/ns/mnt")


def probe() -> Isolation:
    """Try each namespace once with a trivial command, warn about what is missing, and remember."""
    with _probe_lock:  # pool threads may ask at once: probe (and warn) only once
        return _probe()


_probe_lock = threading.Lock()


@functools.cache
def _probe() -> Isolation:
    unshare = shutil.which("unshare", path=HOST_ENV["PATH"])
    root = os.geteuid() == 0
    user = [] if root else ["--user", "--map-root-user"]

    def works(*flags: str, argv: tuple[str, ...] = ("-c", "pass")) -> bool:
        return unshare is not None and _works([unshare, *user, *flags, sys.executable, "-I", "-S", *argv])

    mountns = works("--mount", argv=(INIT, "--probe-mounts", host_mount_namespace()))
    uid = root and (mountns or all(map(_sandbox_init.reachable, runtime_paths())))
    found = Isolation(
        unshare=unshare,
        rootless=not root,
        netns=works("--net"),
        pidns=works("--pid", "--fork", "--kill-child", "--mount-proc"),
        mountns=mountns,
        uid=uid,
        # The init enters it with unshare(2) itself; `unshare --user` tells us whether that is allowed.
        userns=not uid and works("--user"),
        ipcns=works("--ipc"),
        keyring=_keyctl_works(),
        cgroup=tuple(_per_run.cgroup_controllers()[1]),
    )
    # `userns` is only the fallback for `uid`; and not being root, there is no root to drop.
    missing = [name for name, ok in found.as_dict().items() if not ok and name != "userns"]
    if not root:
        missing = [name for name in missing if name != "uid"]
    if missing:
        warnings.warn(
            f"agentlab sandbox: {', '.join(missing)} unavailable on this machine; sandboxed code runs with less "
            "isolation (see SandboxResult.isolation). It is a lab guard-rail, not a security boundary.",
            RuntimeWarning,
            stacklevel=4,
        )
    return found


def _keyctl_works() -> bool:
    """Whether keyctl(2) answers here (a container's seccomp profile may refuse it outright)."""
    number = _sandbox_init.SYS_KEYCTL.get(os.uname().machine)
    libc = ctypes.CDLL(None, use_errno=True)
    # KEYCTL_GET_KEYRING_ID (0) of our session keyring (-3), without creating one.
    return number is not None and int(libc.syscall(number, 0, -3, 0)) > 0


def command(isolation: Isolation, config: str) -> list[str]:
    """The command line that starts one sandbox: `unshare` with what is available, then the init."""
    init = [sys.executable, "-I", "-S", INIT, config]
    flags = []
    if isolation.netns:
        flags.append("--net")
    if isolation.pidns:
        flags += ["--pid", "--fork", "--kill-child", "--mount-proc"]
    if isolation.mountns:
        flags.append("--mount")
    if isolation.ipcns:
        flags.append("--ipc")
    if not flags or isolation.unshare is None:
        return init
    user = ["--user", "--map-root-user"] if isolation.rootless else []
    return [isolation.unshare, *user, *flags, "--", *init]


def wait_exit(pidfd: int, seconds: float) -> bool:
    """Wait until the process behind `pidfd` has exited (it stays unreaped); say whether it did."""
    with selectors.DefaultSelector() as selector:
        selector.register(pidfd, selectors.EVENT_READ)
        return bool(selector.select(seconds))


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]
    return []


def _parent_of(pid: int) -> int | None:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as stat:
        # The command name in parentheses may contain spaces: the fields after it are fixed.
        return int(stat.read().rsplit(")", 1)[1].split()[1])
    return None


def _kill_child(parent: int, child: int) -> None:
    """SIGKILL `child` through a pidfd, after checking it is still `parent`'s: a pid number can be reused."""
    try:
        handle = os.pidfd_open(child)
    except OSError:
        return
    try:
        if _parent_of(child) == parent:
            signal.pidfd_send_signal(handle, signal.SIGKILL)
    finally:
        os.close(handle)


def kill_tree(proc: subprocess.Popen[bytes], exited: int, pidns: bool) -> None:
    """Kill a sandbox and everything it started; return once they are all gone and reaped.

    `exited` is a pidfd for `proc`. With a pid namespace we kill its PID 1 (unshare's child): the
    kernel then kills the rest, and unshare exits only after it has reaped that PID 1, so when `proc`
    exits the namespace is empty. Then the process group, which is everything when there is no pid
    namespace; `proc` is still unreaped, so its group id cannot have been reused.
    """
    if pidns and (children := _children(proc.pid)):
        for child in children:
            _kill_child(proc.pid, child)
        wait_exit(exited, 5.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def start(cmd: list[str], status_fd: int) -> subprocess.Popen[bytes]:
    """Start one sandbox with nothing from our environment, passing only the status pipe on."""
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(status_fd,),
        # A session of its own: one process group to kill, and no terminal signals from ours.
        start_new_session=True,
        env=HOST_ENV,
        cwd="/",
    )


class _Capture:
    """Keeps the first `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = max(self.limit - len(self.kept), 0)
        self.kept += chunk[:room]
        self.dropped += max(len(chunk) - room, 0)

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes not shown]"
        return text


def collect(proc: subprocess.Popen[bytes], exited: int, deadline: float, limit: int) -> tuple[str, str, bool]:
    """Read stdout and stderr until the sandbox is done or the deadline passes; say if it timed out."""
    assert proc.stdout is not None and proc.stderr is not None
    captures = {proc.stdout.fileno(): _Capture(limit), proc.stderr.fileno(): _Capture(limit)}
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        for fd in [*captures, exited]:
            selector.register(fd, selectors.EVENT_READ)
        while True:
            pipes_open = any(fd in captures for fd in selector.get_map())
            # Done: the sandbox exited, and its pipes closed or stragglers had their moment to finish.
            stop = deadline if exited_at is None else min(deadline, exited_at + DRAIN_SECONDS)
            now = time.monotonic()
            if (exited_at is not None and not pipes_open) or now >= stop:
                break
            for key, _ in selector.select(stop - now):
                if key.fd == exited:
                    exited_at = time.monotonic()
                    selector.unregister(exited)
                elif chunk := os.read(key.fd, 65536):
                    captures[key.fd].add(chunk)
                else:
                    selector.unregister(key.fd)
    out, err = captures.values()
    return out.text(), err.text(), exited_at is None


def read_report(fd: int) -> dict[str, Any]:
    """What the init reported on the status pipe (protections, then the exit code), read after it exited."""
    os.set_blocking(fd, False)
    data = b""
    while chunk := _read_some(fd):
        data += chunk
    report: dict[str, Any] = {}
    for line in data.decode().splitlines():
        report.update(json.loads(line))
    return report


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


PROTECTIONS: dict[str, str] = {
    "rlimits": "CPU seconds, memory, open files and processes capped (always on)",
    "uid": "runs as an unprivileged uid of its own (needs root to hand one out)",
    "userns": "failing a uid of its own: a user namespace, so it holds no privileges",
    "netns": "no network: only a loopback interface, and that is down",
    "pidns": "its own process ids: when the sandbox's init dies, every process it left dies too",
    "mountns": "its own view of the files: host mounts read-only, a private /tmp",
    "ipcns": "no access to the host's shared memory, semaphores and message queues",
    "nosuid": "set-uid programs cannot raise privileges (comes with mountns)",
    "hidden": "home and other user-data directories covered by empty ones (comes with mountns)",
    "nonewprivs": "no process it starts can gain privileges (always on)",
    "keyring": "a fresh kernel keyring: no keys or tokens of this session",
    "cgroup-memory": "a memory budget for the whole run, children included (a delegated cgroup v2)",
    "cgroup-pids": "a process-count budget for the whole run (a delegated cgroup v2)",
    "cgroup-cpu": "a CPU-share budget for the whole run (a delegated cgroup v2)",
}
"""What each protection `sandbox.isolation_available` reports keeps from a sandboxed program, in its order."""
