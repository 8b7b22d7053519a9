"""The cluster: a local Dask cluster sized for agents by default, or a remote one by address (labs 00, 03).

Agent work is I/O-bound — steps wait on models and tools — so a worker needs many concurrent slots, not
many cores: the default local cluster is 2 worker processes × 32 threads each on loopback. A remote
cluster is reached by address, scheduler file or `DASK_SCHEDULER_ADDRESS`, with TLS through Dask's
`Security`. Dask runs arbitrary code for whoever can reach the scheduler, so connecting to a
non-loopback address without TLS warns loudly.

Scaling out beyond one machine uses Dask's own deployers and then `connect(address)` (or their
`cluster.get_client()`): dask-jobqueue (`SLURMCluster`, `PBSCluster`) on HPC, dask-kubernetes
(`KubeCluster`) on Kubernetes, dask-gateway for shared, authenticated multi-user clusters.
Scripts that start a local cluster must guard it with `if __name__ == "__main__":` (workers are spawned).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
import warnings
from typing import Any
from urllib.parse import urlparse

from distributed import Client, LocalCluster
from distributed.security import Security

from agentlab.errors import ClusterError, ConfigError

__all__ = [
    "InsecureClusterWarning",
    "connect",
    "describe",
    "is_loopback",
    "local_cluster",
    "local_options",
    "quiet_heartbeats",
    "silence_from_env",
]

SILENCE_ENV = "AGENTLAB_CLUSTER_SILENCE"


class InsecureClusterWarning(UserWarning):
    """Connecting to a remote scheduler over plain TCP: anyone on the path can run code on it."""


def local_options(
    n_workers: int = 2,
    threads_per_worker: int = 32,
    *,
    dashboard: bool = True,
    security: Security | bool | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The settings of agentlab's local cluster: worker processes on 127.0.0.1, many threads each."""
    if not dashboard:
        kwargs.setdefault("scheduler_kwargs", {"dashboard": False})
    return {
        "n_workers": n_workers,
        "threads_per_worker": threads_per_worker,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": ":0",  # any free port: the scheduler serves /health there even with no dashboard
        "security": security,
        "preload": ["agentlab.worker_setup"],  # import agentlab on the workers now, not in the first sub-task
        **kwargs,
    }


def local_cluster(n_workers: int = 2, threads_per_worker: int = 32, **kwargs: Any) -> LocalCluster:
    """A local cluster of worker processes on 127.0.0.1, with many threads per worker for I/O-bound steps."""
    return LocalCluster(**local_options(n_workers, threads_per_worker, **kwargs))


def is_loopback(address: str) -> bool:
    """True for addresses on this machine (127.0.0.0/8, ::1, localhost, in-process)."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme == "inproc":
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(
    address: str | None = None,
    *,
    scheduler_file: str | None = None,
    security: Security | None = None,
    **kwargs: Any,
) -> Client:
    """A client for the cluster at `address`, `scheduler_file` or $DASK_SCHEDULER_ADDRESS.

    With none of them, start a local cluster (`local_options()`) that the client owns: Dask closes it
    with the client.
    """
    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if scheduler_file:
        return Client(scheduler_file=scheduler_file, security=security, **kwargs)
    if address is None:
        return Client(**local_options(), **kwargs)
    if not address.startswith("tls://") and not is_loopback(address):
        warnings.warn(
            f"connecting to {address} without TLS: Dask lets anyone who can reach the scheduler run code on "
            "every worker, and traffic is unencrypted. Use tls:// with a Security object, an SSH tunnel, "
            "or dask-gateway.",
            InsecureClusterWarning,
            stacklevel=2,
        )
    try:
        return Client(address, security=security, **kwargs)
    except (OSError, TimeoutError) as exc:  # refused, unreachable, or no answer within Dask's connect timeout
        raise ClusterError(f"could not reach the Dask scheduler at {address}: {exc}") from exc


def silence_from_env(default: float = 30.0) -> float:
    """Seconds a silent worker or scheduler is given before it counts as unreachable (`FanOutPolicy.silence`),
    from $AGENTLAB_CLUSTER_SILENCE if set."""
    text = os.environ.get(SILENCE_ENV)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(f"{SILENCE_ENV} must be a positive number of seconds, not {text!r}")
    return value


def describe(client: Client) -> str:
    """One line a learner can read: where the scheduler is, the workers and slots, the dashboard link."""
    info = client.scheduler_info(n_workers=-1)
    workers = info.get("workers", {})
    slots = sum(w.get("nthreads", 0) for w in workers.values())
    link = client.dashboard_link if info.get("services", {}).get("dashboard") else "(no dashboard)"
    return f"scheduler {info.get('address')} · {len(workers)} workers · {slots} slots · dashboard {link}"


def quiet_heartbeats(client: Client, wait: float = 5.0) -> None:
    """Stop every worker's heartbeat and let the one on the wire land: call it just before the cluster closes.

    Closing a cluster retires its workers while each still sends the scheduler a heartbeat every second
    or so; one that is on the wire when its connection closes is logged with a CommClosedError traceback
    ("Failed to communicate with scheduler during heartbeat", distributed #7105), more often the busier
    the machine. A closing cluster needs no heartbeats (the scheduler waits minutes before missing one).
    """
    client.run(_quiet_heartbeat, wait)


async def _quiet_heartbeat(wait: float, dask_worker: Any = None) -> None:
    """On one worker: stop its heartbeat, then wait (up to `wait` s) until no call to the scheduler is open."""
    dask_worker.periodic_callbacks["heartbeat"].stop()
    scheduler = dask_worker.scheduler.address
    deadline = time.monotonic() + wait
    while dask_worker.rpc.occupied.get(scheduler) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
