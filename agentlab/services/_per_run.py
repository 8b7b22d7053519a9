"""What makes a sandbox's limits hold per run: a uid of its own and a cgroup of its own (lab 02).

rlimits count per process (RLIMIT_AS, RLIMIT_CPU) or per uid across the whole machine
(RLIMIT_NPROC), so twelve children may each use the memory budget and one sandbox's fork bomb
would starve every other sandbox sharing its uid. Two kernel mechanisms fix that, each used where
this machine allows it:

- **a uid per run** (`UidLease`): when we are root, each concurrent sandbox runs as its own
  unprivileged uid from `SANDBOX_UIDS`, held with a lock file under `LEASE_DIR` for the run's
  length (across processes, so Dask workers on one machine never share one). RLIMIT_NPROC then
  counts only that run's processes, and `sweep` kills every process of the uid afterwards;
- **a cgroup per run** (`RunCgroup`): a memory budget for all the run's processes together
  (anonymous memory, memfd, SysV and tmpfs pages are all charged; swap is refused), a pids limit
  for the whole run, and a CPU bandwidth limit (`cpus` cores at most). Under cgroup v2 the run gets
  `/sys/fs/cgroup/agentlab-sandbox/run-*` (the hierarchy's root may hold processes; our own cgroup
  may not, so it is the only place controllers can be enabled without moving the caller); under
  cgroup v1 it gets a child of our own cgroup in each of the memory, pids and cpu hierarchies.

Not done: cgroups for unprivileged callers (that needs a delegated subtree, e.g. `systemd-run
--user --scope`); io limits; a uid per run when we are not root (a user namespace stands in).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from agentlab.errors import ServiceError

__all__ = ["CGROUP_ROOT", "LEASE_DIR", "SANDBOX_UIDS", "Budget", "RunCgroup", "UidLease", "cgroup_controllers", "sweep"]

SANDBOX_UIDS = range(2_100_000_000, 2_100_000_000 + 4096)
"""The unprivileged uids (and gids) sandboxes run as when we are root: owned by nobody on the host."""
LEASE_DIR = "/run/agentlab-sandbox"
CGROUP_ROOT = "/sys/fs/cgroup"
_PARENT_V2 = "agentlab-sandbox"
_CONTROLLERS = ("memory", "pids", "cpu")
_counter = itertools.count()


class UidLease:
    """One uid from `SANDBOX_UIDS`, ours until `release()`: no other run on this machine holds it."""

    def __init__(self) -> None:
        directory = LEASE_DIR if os.path.isdir(os.path.dirname(LEASE_DIR)) else "/tmp/agentlab-sandbox-uids"
        os.makedirs(directory, mode=0o700, exist_ok=True)
        start = (os.getpid() * 7 + next(_counter)) % len(SANDBOX_UIDS)
        for step in range(len(SANDBOX_UIDS)):
            uid = SANDBOX_UIDS[(start + step) % len(SANDBOX_UIDS)]
            handle = os.open(os.path.join(directory, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                # flock, not a pid file: the kernel drops the lock when its holder dies, however it dies.
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            self.uid, self._handle = uid, handle
            return
        raise ServiceError(f"all {len(SANDBOX_UIDS)} sandbox uids are in use", retryable=True)

    def release(self) -> None:
        os.close(self._handle)


def sweep(uid: int) -> None:
    """Kill every process running as `uid` (for runs without a pid namespace to do it for us).

    Pass after pass over /proc until one finds none: a process that forks between passes is caught by
    the next, and RLIMIT_NPROC bounds how many there can be. kill(-1) as the uid would not do: it
    reports success whenever any other process exists, so "none left" cannot be told."""
    while found := _processes_of(uid):
        for pid in found:
            with contextlib.suppress(OSError):
                handle = os.pidfd_open(pid)  # from here the pid cannot be handed to another process
                try:
                    if pid in _processes_of(uid, [str(pid)]):
                        signal.pidfd_send_signal(handle, signal.SIGKILL)
                finally:
                    os.close(handle)
        time.sleep(0.001)  # let the killed exit, so the next pass does not count them again


def _processes_of(uid: int, pids: list[str] | None = None) -> list[int]:
    """Pids whose real, effective or saved uid is `uid`, among `pids` (default: all) — zombies excluded."""
    found = []
    for entry in pids if pids is not None else filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{entry}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if str(uid) in fields["Uid"].split()[:3] and not fields["State"].strip().startswith("Z"):
                found.append(int(entry))
    return found


def _own_cgroup(controller: str) -> str | None:
    """Our cgroup path in `controller`'s v1 hierarchy ("" for v2's single hierarchy)."""
    with open("/proc/self/cgroup") as listing:
        for line in listing:
            _, names, path = line.rstrip("\n").split(":", 2)
            if (controller == "" and names == "") or controller in names.split(","):
                return path
    return None


def _write(path: str, value: str) -> None:
    with open(path, "w") as target:
        target.write(value)


@functools.cache
def cgroup_controllers() -> tuple[str, dict[str, str]]:
    """("v2" or "v1" or "", controller -> directory under which run cgroups are made), probed once."""
    if os.geteuid() != 0:
        return "", {}
    v2 = os.path.join(CGROUP_ROOT, "cgroup.controllers")
    if os.path.exists(v2):
        with contextlib.suppress(OSError):
            return "v2", _prepare_v2()
        return "", {}
    found = {}
    for controller in _CONTROLLERS:
        mount, own = os.path.join(CGROUP_ROOT, controller), _own_cgroup(controller)
        if own is not None and os.access(os.path.join(mount, "cgroup.procs"), os.W_OK):
            found[controller] = os.path.join(mount, own.lstrip("/"))
    return ("v1", found) if found else ("", {})


def _prepare_v2() -> dict[str, str]:
    """Make the parent of all run cgroups, with every controller we use that the root offers."""
    offered = Path(CGROUP_ROOT, "cgroup.controllers").read_text().split()
    wanted = [name for name in _CONTROLLERS if name in offered]
    _write(os.path.join(CGROUP_ROOT, "cgroup.subtree_control"), " ".join(f"+{name}" for name in wanted))
    parent = os.path.join(CGROUP_ROOT, _PARENT_V2)
    os.makedirs(parent, exist_ok=True)
    _write(os.path.join(parent, "cgroup.subtree_control"), " ".join(f"+{name}" for name in wanted))
    return {name: parent for name in wanted}


@dataclass(frozen=True)
class Budget:
    """What the whole run may use together (from `SandboxLimits`)."""

    memory_bytes: int
    pids: int
    cpus: float


class RunCgroup:
    """The cgroup(s) of one run: made with its budget, joined by the init, killed and removed afterwards."""

    def __init__(self, budget: Budget) -> None:
        self.version, parents = cgroup_controllers()
        name = f"run-{os.getpid()}-{next(_counter)}"
        self.dirs: dict[str, str] = {}
        try:
            for controller, parent in parents.items():
                directory = os.path.join(parent, name if self.version == "v2" else f"agentlab-sandbox-{name}")
                if directory not in self.dirs.values():
                    os.mkdir(directory)
                self.dirs[controller] = directory
            self.limits = self._apply(budget)
        except BaseException:
            self.remove()
            raise

    def _apply(self, budget: Budget) -> list[str]:
        """Write the budget; the names of the limits that took (cgroup-memory, cgroup-pids, cgroup-cpu)."""
        took = []
        v2, period = self.version == "v2", 100_000
        quota = max(int(budget.cpus * period), 1000)
        files = {
            "memory": [("memory.max", str(budget.memory_bytes)), ("memory.swap.max", "0")]
            if v2
            else [("memory.limit_in_bytes", str(budget.memory_bytes)), ("memory.memsw.limit_in_bytes", "")],
            "pids": [("pids.max", str(budget.pids))],
            "cpu": [("cpu.max", f"{quota} {period}")]
            if v2
            else [("cpu.cfs_period_us", str(period)), ("cpu.cfs_quota_us", str(quota))],
        }
        for controller, directory in self.dirs.items():
            for filename, value in files[controller]:
                path = os.path.join(directory, filename)
                if os.path.exists(path):  # memsw/swap files exist only with swap accounting
                    _write(path, value or str(budget.memory_bytes))
                    took.append(f"cgroup-{controller}")
        return sorted(set(took))

    def procs_files(self) -> list[str]:
        """The cgroup.procs files the init writes itself into, before it starts anything."""
        return sorted({os.path.join(directory, "cgroup.procs") for directory in self.dirs.values()})

    def kill(self) -> None:
        """SIGKILL everything in the run's cgroups until they are empty."""
        for directory in set(self.dirs.values()):
            kill_file = os.path.join(directory, "cgroup.kill")
            if os.path.exists(kill_file):
                _write(kill_file, "1")
            for _ in range(1000):  # a process may fork while we read the list; pids.max bounds it
                pids = Path(directory, "cgroup.procs").read_text().split()
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), 9)
                time.sleep(0.001)

    def remove(self) -> None:
        """Remove the run's cgroups (the kernel refuses while a process is still being torn down: retry)."""
        for directory in set(self.dirs.values()):
            for _ in range(500):
                try:
                    os.rmdir(directory)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.002)
