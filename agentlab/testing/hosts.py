"""A cluster across hosts for tests and benchmarks: a client, a scheduler and workers, each its own host.

`HostCluster` makes each host a Linux network namespace with its own address (`agentlab.testing.netns`),
runs a real `dask scheduler` on host "sched" and a real `dask worker` on each host "w0", "w1", ... (both
with agentlab's preload), and makes this process the client host: `cluster.client()` is a Dask client
whose connections all live in host "client". Any host can be cut off (`partition`) and healed (`heal`),
and each direction of each link can have a one-way delay and a loss rate (`agentlab.testing.netdelay`:
the kernel has no netem, so Dask's comms add them in user space).

    with HostCluster(n_workers=2, latency={("client", "*"): 0.005}) as cluster:
        client = cluster.client()
        cluster.partition("w1")      # w1's cable is pulled: its connections stall, new ones fail
        cluster.heal("w1")

Dask's defaults suit a data centre, not a test: a silent worker is dropped after 5 minutes. The cluster
runs with `DASK_CONFIG` values a test can afford (`TIMEOUTS`); agentlab's own rounds notice an
unreachable worker or scheduler after their policy's `silence`. Every namespace, link and process made
is removed on exit, also when the block raises (and at interpreter exit, if a test never got there);
`leftovers()` says what is still there; namespaces left by a process that was SIGKILLed (so ran no
cleanup) are swept when the next cluster starts. Needs root: `unavailable()` says why not.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from distributed import Client

from agentlab.errors import ClusterError
from agentlab.testing.netdelay import HOST_ENV, LINKS_ENV, Links, install, uninstall
from agentlab.testing.netns import Switch, inside, list_namespaces, unavailable

__all__ = ["TIMEOUTS", "HostCluster"]

TIMEOUTS: dict[str, str] = {
    "distributed.scheduler.worker-ttl": "20s",  # a silent worker is dropped by the scheduler after this
    "distributed.comm.timeouts.connect": "5s",  # a connection attempt gives up after this
    "distributed.comm.timeouts.tcp": "20s",  # a connection with unacknowledged data is dead after this
}
"""Dask settings of the cluster's processes: long enough that a partition of a few seconds heals without
Dask dropping anyone, short enough that a test never waits out Dask's minutes-long defaults."""

_counter = itertools.count()
PREFIX = "agentlab-"

Latency = Mapping[tuple[str, str], float]


def _env_name(key: str) -> str:
    return "DASK_" + key.upper().replace(".", "__").replace("-", "_")


class HostCluster:
    """Hosts "client", "sched", "w0".."w{n-1}" (and any `extra` hosts), with Dask on them (a context manager).

    `latency` and `loss` map (from, to) host pairs to one-way seconds and a loss rate, both directions
    unless `symmetric=False`; "*" matches any host ("client", "*") but a host never delays itself.
    """

    def __init__(
        self,
        n_workers: int = 2,
        nthreads: int = 16,
        *,
        extra: tuple[str, ...] = (),
        latency: Latency | None = None,
        loss: Latency | None = None,
        symmetric: bool = True,
        config: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.n_workers, self.nthreads, self.extra = n_workers, nthreads, extra
        self.workers = [f"w{i}" for i in range(n_workers)]
        self.latency, self.loss, self.symmetric = dict(latency or {}), dict(loss or {}), symmetric
        self.config = {**TIMEOUTS, **(config or {})}
        self.startup_timeout = startup_timeout
        self.prefix = f"{PREFIX}{os.getpid()}-{next(_counter)}-"
        self.switch = Switch(self.prefix)
        self.dir = Path(tempfile.mkdtemp(prefix="agentlab-hosts-"))
        self.scheduler_file = str(self.dir / "scheduler.json")
        self.links_file = str(self.dir / "links.json")
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.clients: list[Client] = []
        self._stopped = False

    # -- building ------------------------------------------------------------------------------------------------

    @property
    def hosts(self) -> list[str]:
        return ["client", "sched", *self.workers, *self.extra]

    def ip(self, host: str) -> str:
        return self.switch.hosts[host]

    @property
    def address(self) -> str:
        return f"tcp://{self.ip('sched')}:8786"

    def links(self) -> Links:
        """Who is where, and each direction's delay and loss, from `latency` and `loss`."""

        def table(spec: dict[tuple[str, str], float]) -> dict[str, float]:
            out: dict[str, float] = {}
            for (a, b), value in spec.items():
                pairs = [(x, y) for x in self.hosts for y in self.hosts if x != y and a in ("*", x) and b in ("*", y)]
                if self.symmetric:
                    pairs += [(y, x) for x, y in pairs]
                for x, y in pairs:
                    out[f"{x}>{y}"] = value
            return out

        hosts = {address: host for host, address in self.switch.hosts.items()}
        return Links(hosts, table(self.latency), table(self.loss))

    def start(self) -> HostCluster:
        reason = unavailable()
        if reason:
            raise ClusterError(f"cannot make a multi-host cluster here: {reason}")
        atexit.register(self.stop)
        sweep()
        try:
            self.switch.start()
            for host in self.hosts:
                self.switch.add(host)
            Path(self.links_file).write_text(self.links().to_json())
            self.spawn("sched", "distributed.cli.dask_scheduler", *self._scheduler_args())
            self._wait(lambda: Path(self.scheduler_file).exists(), "the scheduler to write its address")
            for host in self.workers:
                self.start_worker(host)
            client = self.client()
            if self.n_workers:
                client.wait_for_workers(self.n_workers, timeout=self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _scheduler_args(self) -> list[str]:
        return [
            "--host",
            self.ip("sched"),
            "--port",
            "8786",
            "--no-dashboard",
            "--scheduler-file",
            self.scheduler_file,
            "--preload",
            "agentlab.testing.netdelay",
            "--preload",
            "agentlab.worker_setup",
        ]

    def start_worker(self, host: str) -> subprocess.Popen[bytes]:
        """Start (or start again) the `dask worker` of host `host`, named after it."""
        return self.spawn(
            host,
            "distributed.cli.dask_worker",
            self.address,
            "--host",
            self.ip(host),
            "--name",
            host,
            "--nthreads",
            str(self.nthreads),
            "--no-nanny",
            "--no-dashboard",
            "--preload",
            "agentlab.testing.netdelay",
            "--preload",
            "agentlab.worker_setup",
        )

    def env(self, host: str) -> dict[str, str]:
        """The environment of a process on `host`: the Dask settings, and where it is for its link delays."""
        settings = {_env_name(key): value for key, value in self.config.items()}
        return {**os.environ, **settings, LINKS_ENV: self.links_file, HOST_ENV: host}

    def spawn(self, host: str, module: str, *args: str) -> subprocess.Popen[bytes]:
        """Run `python -m module args` on `host`, logging to the cluster's directory; stopped with it."""
        name = f"{host}-{module.rsplit('.', 1)[-1]}"
        if name in self.procs and self.procs[name].poll() is None:
            raise ClusterError(f"{name} is already running on {host}")
        log = (self.dir / f"{name}.log").open("ab")
        command = ["ip", "netns", "exec", self.switch.namespace(host), sys.executable, "-m", module, *args]
        self.procs[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=self.env(host), start_new_session=True
        )
        log.close()
        return self.procs[name]

    def command(self, host: str, *argv: str) -> list[str]:
        """A command line that runs `argv` on `host` (for subprocess.run: a CLI run on the client host)."""
        return ["ip", "netns", "exec", self.switch.namespace(host), *argv]

    @contextmanager
    def on(self, host: str) -> Iterator[None]:
        """Run the block with this thread on `host`: sockets and threads it makes live there."""
        with inside(self.switch.namespace(host)):
            yield

    def client(self, **kwargs: Any) -> Client:
        """A Dask client on host "client" (its IO thread and every connection it opens live there)."""
        install(self.links(), "client")
        with self.on("client"):
            client = Client(self.address, **kwargs)
        self.clients.append(client)
        return client

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not ready():
            exited = [name for name, p in self.procs.items() if p.poll() is not None]
            if exited:
                raise ClusterError(f"{', '.join(exited)} exited while waiting for {what}:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out waiting for {what}:\n{self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.dir.glob("*.log"))
        )

    # -- faults --------------------------------------------------------------------------------------------------

    def partition(self, host: str) -> None:
        """Cut `host` off from every other host (its cable is pulled: nothing is closed, all goes silent)."""
        self.switch.cable(host, up=False)

    def heal(self, host: str) -> None:
        """Plug `host` back in: stalled connections carry on, retransmitted."""
        self.switch.cable(host, up=True)

    @contextmanager
    def partitioned(self, host: str) -> Iterator[None]:
        self.partition(host)
        try:
            yield
        finally:
            self.heal(host)

    # -- tearing down --------------------------------------------------------------------------------------------

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def stop(self) -> None:
        """Close the clients, stop every process, delete every namespace (with its links) and the directory."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        for client in self.clients:
            with contextlib.suppress(Exception):  # a client cut off from its scheduler may not close cleanly
                client.close(timeout=2)
        self.clients.clear()
        uninstall()
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        errors = self.switch.remove()
        for path in sorted(self.dir.glob("*"), reverse=True):
            path.unlink()
        self.dir.rmdir()
        if errors:
            raise ClusterError(f"could not delete the namespaces {errors}")

    def leftovers(self) -> list[str]:
        """What this cluster made that is still there: namespaces (and so links), live processes, files."""
        left = [f"namespace {ns}" for ns in list_namespaces() if ns.startswith(self.prefix)]
        left += [f"process {pid}" for pid in self.pids() if _alive(pid)]
        left += [f"directory {self.dir}"] if self.dir.exists() else []
        return left

    def describe(self) -> str:
        return json.dumps({"hosts": self.switch.hosts, "scheduler": self.address}, indent=1)

    def __enter__(self) -> HostCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def sweep() -> list[str]:
    """Delete the namespaces a killed process left behind (named `agentlab-<pid>-...`, that pid gone): a
    process killed with SIGKILL runs no cleanup. Processes still running inside them are killed first
    (its temporary directory under /tmp stays). Returns the namespaces deleted."""
    gone = []
    for ns in list_namespaces():
        parts = ns.split("-")
        if not ns.startswith(PREFIX) or len(parts) < 3 or not parts[1].isdigit() or _alive(int(parts[1])):
            continue
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout
        for pid in pids.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
        gone.append(ns)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))
