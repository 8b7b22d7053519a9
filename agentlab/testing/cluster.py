"""A real cluster for tests and labs: a scheduler and workers as separate processes on loopback.

`ProcessCluster` starts `dask scheduler` and `dask worker` with the command-line tools Dask ships,
so the scheduler, each worker and the client are all different processes — the shape of a remote
cluster, on one machine. Learners can use it to see what changes when nothing is in-process; the
tests use it where it matters (killing a worker, connecting over TLS).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from distributed import Client
from distributed.security import Security

from agentlab.errors import ClusterError

__all__ = ["ProcessCluster", "kill_worker", "temporary_tls_files"]


class ProcessCluster:
    """`dask scheduler` + `n_workers` × `dask worker` on 127.0.0.1, stopped on exit (a context manager)."""

    def __init__(
        self,
        n_workers: int = 2,
        nthreads: int = 16,
        *,
        nanny: bool = True,
        tls: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.n_workers, self.nthreads, self.nanny, self.tls = n_workers, nthreads, nanny, tls or {}
        self.startup_timeout = startup_timeout
        self._dir = Path(tempfile.mkdtemp(prefix="agentlab-cluster-"))
        self.scheduler_file = str(self._dir / "scheduler.json")
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return str(json.loads(Path(self.scheduler_file).read_text())["address"])

    def _tls_args(self) -> list[str]:
        pairs = [("--tls-ca-file", "ca"), ("--tls-cert", "cert"), ("--tls-key", "key")]
        return [arg for flag, name in pairs if name in self.tls for arg in (flag, self.tls[name])]

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self._dir / f"{len(self._procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._procs.append(proc)
        return proc

    def start(self) -> ProcessCluster:
        protocol = ["--protocol", "tls"] if self.tls else []
        self._spawn(
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--preload",
            "agentlab.worker_setup",
            "--scheduler-file",
            self.scheduler_file,
            *protocol,
            *self._tls_args(),
        )
        self._wait(lambda: Path(self.scheduler_file).exists(), "the scheduler to write its address")
        for i in range(self.n_workers):
            self._spawn(
                "distributed.cli.dask_worker",
                "--scheduler-file",
                self.scheduler_file,
                "--nthreads",
                str(self.nthreads),
                "--host",
                "127.0.0.1",
                "--name",
                f"w{i}",
                "--no-dashboard",
                "--preload",
                "agentlab.worker_setup",
                "--nanny" if self.nanny else "--no-nanny",
                *self._tls_args(),
            )
        return self

    def client(self, **kwargs: Any) -> Client:
        """A client connected to this cluster once all its workers have joined."""
        security = None
        if self.tls:
            security = Security(
                tls_ca_file=self.tls["ca"],
                tls_client_cert=self.tls["cert"],
                tls_client_key=self.tls["key"],
                require_encryption=True,
            )
        client = Client(self.address, security=security, **kwargs)
        client.wait_for_workers(self.n_workers, timeout=self.startup_timeout)
        return client

    def worker_pids(self, client: Client) -> dict[str, int]:
        """Worker address → process id (for tests that kill a worker)."""
        return dict(client.run(os.getpid))

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not ready():
            if any(p.poll() is not None for p in self._procs):
                raise ClusterError(f"a cluster process exited while waiting for {what}: {self.logs()}")
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out waiting for {what}: {self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(self._dir.glob("*.log")))

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ProcessCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def temporary_tls_files(directory: str | Path) -> dict[str, str]:
    """A throwaway self-signed TLS identity written as PEM files (needs `cryptography`).

    Dask's TLS is mutual: every process presents a certificate signed by the shared CA. Here one
    self-signed certificate is both the CA and every process's identity — fine for a lab, not for production.
    """
    security = Security.temporary()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca"].write_text(str(security.tls_ca_file))
    files["cert"].write_text(str(security.tls_client_cert))
    files["key"].write_text(str(security.tls_client_key))
    files["key"].chmod(0o600)
    return {name: str(path) for name, path in files.items()}


def kill_worker(client: Client, seed: int = 0, sig: int = signal.SIGKILL) -> str:
    """Fault injection: SIGKILL one worker process of a cluster on this machine, chosen by `seed`.

    Dask notices the lost connection and re-runs that worker's tasks elsewhere (at-least-once), and a
    nanny, if there is one, starts a fresh worker process.
    """
    pids = dict(client.run(os.getpid))
    victim = str(sorted(pids)[random.Random(seed).randrange(len(pids))])
    os.kill(pids[victim], sig)
    return victim
